// Scenarios of `npm run bench` beside the write and read comparisons:
//   (d) the change feed drained by one reader following `nextCursor` with limit=1000, alone and while 4 writers
//       post batches (DESIGN §9: ≥ 20,000 and ≥ 5,000 changes/s); reader and writers answered 503 `overloaded`
//       ask again after Retry-After, as a syncing platform does, and the wait counts in their time;
//   (e) load without collapse: 200 connections for 20 s on the list (limit 50 and 500, with and without pii:read)
//       and on the feed (limit 1000), the app's RSS sampled from /proc/<pid>/status (< 300 MB), status counts,
//       timeouts, the p99 of the requests served (< 1 s) and of the refusals (503 + Retry-After, answered fast),
//       and when every connection had its first answer with the served p99 after that (docs/decisions.md,
//       "Load without collapse": a burst of new connections waits in the accept queue).
import { readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import { demoOrgUnits, officerOps, type UpsertOperation } from '../src/demo/generator.js';
import { fmt, median, table, type ChildServer } from './support.js';

const FEED_LIMIT = 1000;

/** A refused request (503 overloaded) waits its Retry-After before it is sent again, as a syncing platform does. */
async function afterRetryAfter(res: Response): Promise<void> {
  await res.arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, 1000 * Math.max(0.1, Number(res.headers.get('retry-after') ?? 1))));
}

async function postBatch(port: number, authorization: string, operations: UpsertOperation[]) {
  let res: Response;
  for (;;) {
    res = await fetch(`http://127.0.0.1:${port}/v1/batch`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ atomic: false, operations }),
      signal: AbortSignal.timeout(120_000),
    });
    // Busy (503 overloaded): retry after Retry-After, as a syncing platform does; the batch wrote nothing.
    if (res.status !== 503) break;
    await afterRetryAfter(res);
  }
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /v1/batch answered ${res.status}: ${text.slice(0, 300)}`);
  const { results } = JSON.parse(text) as { results: { status: number }[] };
  return results.filter((r) => r.status === 200 || r.status === 201).length;
}

/** Follows the feed from the start until `until` changes were read (or the feed ends); changes read and ms. */
async function drain(port: number, authorization: string, until: number) {
  let after: string | undefined;
  let read = 0;
  let refused = 0;
  const started = performance.now();
  for (;;) {
    const url = `http://127.0.0.1:${port}/v1/changes?limit=${FEED_LIMIT}${after ? `&after=${after}` : ''}`;
    const res = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(30_000) });
    if (res.status === 503) {
      // Busy (writers hold the capacity): a syncing reader waits Retry-After and asks again; the wait counts.
      refused++;
      await afterRetryAfter(res);
      continue;
    }
    if (res.status !== 200) throw new Error(`GET /v1/changes answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const page = (await res.json()) as { items: unknown[]; nextCursor: string };
    read += page.items.length;
    after = page.nextCursor;
    if (page.items.length < FEED_LIMIT || read >= until) break;
  }
  return { changes: read, ms: performance.now() - started, refused };
}

export async function feedScenario(options: { appServer: ChildServer; authorization: string; runs: number; countChanges: () => Promise<number> }) {
  const { appServer, authorization, runs } = options;
  const { workplaces } = demoOrgUnits();
  const minimum = 50_000;
  let present = await options.countChanges();
  if (present < minimum) {
    process.stdout.write(`\n(d) change feed: writing ${fmt(minimum - present)} more changes first (untimed)…\n`);
    const ops = officerOps({ seed: 'bench-feed', start: 3_000_000, count: minimum - present, workplaces });
    for (let i = 0; i < ops.length; i += 1000) await postBatch(appServer.port, authorization, ops.slice(i, i + 1000));
    present = await options.countChanges();
  }
  process.stdout.write(`\n(d) change feed of ${fmt(present)} changes, one reader, limit=${FEED_LIMIT}: warm-up…\n`);
  await drain(appServer.port, authorization, 10_000);
  const alone: { changes: number; ms: number; changesPerSecond: number }[] = [];
  for (let r = 0; r < runs; r++) {
    const d = await drain(appServer.port, authorization, present);
    alone.push({ ...d, changesPerSecond: (d.changes * 1000) / d.ms });
    process.stdout.write(`  run ${r + 1} alone: ${fmt(alone[r]!.changesPerSecond)} changes/s (${fmt(d.changes)} in ${fmt(d.ms)} ms)\n`);
  }
  const busy: { changes: number; ms: number; changesPerSecond: number; writerRecordsPerSecond: number }[] = [];
  for (let r = 0; r < runs; r++) {
    let stop = false;
    let written = 0;
    const writersStarted = performance.now();
    const writers = [0, 1, 2, 3].map(async (w) => {
      for (let i = 0; !stop; i++) {
        const ops = officerOps({ seed: 'bench-feed', start: 5_000_000 + r * 1_000_000 + w * 100_000 + i * 250, count: 250, workplaces });
        written += await postBatch(appServer.port, authorization, ops);
      }
    });
    let d: Awaited<ReturnType<typeof drain>>;
    try {
      d = await drain(appServer.port, authorization, present);
    } finally {
      // Also when the reader fails: the writers stop before the app does, so its error is the one reported.
      stop = true;
      await Promise.allSettled(writers);
    }
    await Promise.all(writers);
    const writerMs = performance.now() - writersStarted;
    busy.push({ ...d, changesPerSecond: (d.changes * 1000) / d.ms, writerRecordsPerSecond: (written * 1000) / writerMs });
    process.stdout.write(
      `  run ${r + 1} with 4 writers: ${fmt(busy[r]!.changesPerSecond)} changes/s (${fmt(d.changes)} in ${fmt(d.ms)} ms, ${d.refused} pages refused 503 and asked again after Retry-After), writers ${fmt(busy[r]!.writerRecordsPerSecond)} records/s\n`,
    );
  }
  const a = median(alone.map((x) => x.changesPerSecond));
  const b = median(busy.map((x) => x.changesPerSecond));
  return {
    description: `GET /v1/changes?limit=${FEED_LIMIT} followed from the start by one reader over ${present} changes; then again while 4 writers each post batches of 250 new officers`,
    changes: present,
    alone: { runs: alone, median: a, target: 20_000, pass: a >= 20_000 },
    withWriters: { runs: busy, median: b, writerRecordsPerSecond: median(busy.map((x) => x.writerRecordsPerSecond)), target: 5_000, pass: b >= 5_000 },
  };
}

async function rssMb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function loadScenario(options: {
  appServer: ChildServer;
  authorization: string;
  piiAuthorization: string;
  connections?: number;
  seconds?: number;
}) {
  const { appServer } = options;
  const connections = options.connections ?? 200;
  const seconds = options.seconds ?? 20;
  const base = `http://127.0.0.1:${appServer.port}`;
  const list = (limit: number) => `${base}/v1/officers?regionCode=410100&employmentStatus=active&limit=${limit}`;
  const cases = [
    { name: 'list limit=50', url: list(50), authorization: options.authorization },
    { name: 'list limit=50 pii:read', url: list(50), authorization: options.piiAuthorization },
    { name: 'list limit=500', url: list(500), authorization: options.authorization },
    { name: 'list limit=500 pii:read', url: list(500), authorization: options.piiAuthorization },
    { name: 'feed limit=1000', url: `${base}/v1/changes?limit=1000`, authorization: options.authorization },
  ];
  const out = [];
  let peakOverall = 0;
  for (const c of cases) {
    process.stdout.write(`\n(e) ${c.name}: ${connections} connections for ${seconds} s…\n`);
    const served: number[] = [];
    const refused: number[] = [];
    // The same, from the moment every connection has had its first answer (see `steadyFrom` below).
    const servedSteady: number[] = [];
    const answered = new Set<unknown>();
    let steadyFrom: number | undefined;
    const statuses: Record<string, number> = {};
    let retryAfterMissing = 0;
    let peak = 0;
    const rssSamples: number[] = [];
    const sampler = setInterval(() => {
      void rssMb(appServer.pid).then((mb) => {
        if (mb === undefined) return;
        rssSamples.push(mb);
        peak = Math.max(peak, mb);
      });
    }, 200);
    let finish!: (result: autocannon.Result) => void;
    let fail!: (err: unknown) => void;
    const done = new Promise<autocannon.Result>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const instance = autocannon(
      {
      url: c.url,
      headers: { authorization: c.authorization },
      connections,
      pipelining: 1,
      duration: seconds,
      timeout: 10,
      requests: [
        {
          method: 'GET',
          onResponse: (status, _body, _context, headers) => {
            if (status === 503 && !headers?.['retry-after']) retryAfterMissing++;
          },
        },
      ],
      },
      (err, result) => (err ? fail(err) : finish(result)),
    );
    const started = performance.now();
    instance.on('response', (client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      const ok = statusCode >= 200 && statusCode < 300;
      (ok ? served : refused).push(responseTime);
      const now = performance.now();
      // A request sent once every connection was answered: the run's connection burst is behind it.
      if (ok && steadyFrom !== undefined && now - responseTime >= steadyFrom) servedSteady.push(responseTime);
      if (steadyFrom === undefined && !answered.has(client)) {
        answered.add(client);
        if (answered.size === connections) steadyFrom = now;
      }
    });
    const result = await done;
    clearInterval(sampler);
    served.sort((a, b) => a - b);
    refused.sort((a, b) => a - b);
    servedSteady.sort((a, b) => a - b);
    const row = {
      scenario: c.name,
      statuses,
      timeouts: result.timeouts,
      errors: result.errors,
      servedPerSecond: served.length / seconds,
      servedP50Ms: percentile(served, 50),
      servedP99Ms: percentile(served, 99),
      /** When the last of the connections had its first answer, from the start of the run. */
      allConnectionsAnsweredMs: steadyFrom === undefined ? Number.NaN : steadyFrom - started,
      servedSteadyP99Ms: percentile(servedSteady, 99),
      refusedP99Ms: percentile(refused, 99),
      retryAfterMissing,
      rssPeakMb: peak,
      rssMedianMb: median(rssSamples),
    };
    peakOverall = Math.max(peakOverall, peak);
    process.stdout.write(
      `  statuses ${JSON.stringify(statuses)}, timeouts ${result.timeouts}, errors ${result.errors}; served ${fmt(row.servedPerSecond)}/s p99 ${fmt(row.servedP99Ms)} ms (once all connections answered, after ${fmt(row.allConnectionsAnsweredMs)} ms: ${fmt(row.servedSteadyP99Ms)} ms); refused p99 ${fmt(row.refusedP99Ms)} ms; RSS peak ${fmt(peak)} MB\n`,
    );
    out.push(row);
    // Let the app settle (in-flight requests, garbage) before the next case.
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const pass = out.every((r) => r.timeouts === 0 && r.rssPeakMb < 300 && !(r.servedP99Ms >= 1000) && r.retryAfterMissing === 0);
  return { connections, seconds, cases: out, rssPeakMb: peakOverall, pass };
}

export function feedAndLoadTable(
  feed: Awaited<ReturnType<typeof feedScenario>> | undefined,
  load: Awaited<ReturnType<typeof loadScenario>> | undefined,
): string {
  const parts: string[] = [];
  if (feed) {
    parts.push(
      table(
        ['change feed (median of runs)', 'changes/s', 'target', ''],
        [
          ['one reader, limit=1000', fmt(feed.alone.median), '≥ 20,000', feed.alone.pass ? 'pass' : 'FAIL'],
          [`one reader while 4 writers write (${fmt(feed.withWriters.writerRecordsPerSecond)} records/s)`, fmt(feed.withWriters.median), '≥ 5,000', feed.withWriters.pass ? 'pass' : 'FAIL'],
        ],
      ),
    );
  }
  if (load) {
    parts.push(
      table(
        [
          `${load.connections} connections × ${load.seconds} s`,
          '2xx',
          '503',
          'other',
          'timeouts',
          'served/s',
          'served p99 ms',
          'all answered ms',
          'then p99 ms',
          '503 p99 ms',
          'RSS peak MB',
        ],
        load.cases.map((c) => {
          const ok = Object.entries(c.statuses).filter(([s]) => s.startsWith('2')).reduce((t, [, n]) => t + n, 0);
          const busy = c.statuses['503'] ?? 0;
          const other = Object.values(c.statuses).reduce((t, n) => t + n, 0) - ok - busy;
          return [
            c.scenario,
            fmt(ok),
            fmt(busy),
            fmt(other),
            fmt(c.timeouts),
            fmt(c.servedPerSecond),
            fmt(c.servedP99Ms),
            fmt(c.allConnectionsAnsweredMs),
            fmt(c.servedSteadyP99Ms),
            fmt(c.refusedP99Ms),
            fmt(c.rssPeakMb),
          ];
        }),
      ),
    );
    parts.push(
      `load: ${load.pass ? 'pass' : 'FAIL'} (RSS < 300 MB, no timeouts, served p99 < 1 s over the whole run, every 503 with Retry-After)\n` +
        '"all answered": when the last connection had its first answer; "then p99": served p99 of the requests sent after it (docs/decisions.md, "Load without collapse").',
    );
  }
  return parts.join('\n\n');
}
