// Summarises a V8 `.cpuprofile` (node --cpu-prof) for the bench: self time by area (a package, a source file, the
// runtime) and inclusive CPU time of the project's own functions. Also runnable alone:
//   npx tsx bench/profile-summary.ts bench/results/profile-…/CPU….cpuprofile
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which part of the system a frame belongs to: a package, a project file, or the runtime. */
export function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  // Native frames by name: `writev` (socket writes) and `(garbage collector)` say more than "native".
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  // The build (dist/…js) is named after its source (src/…ts).
  const built = /\/dist\/(.+)\.js$/.exec(url);
  if (built) return `src/${built[1]}.ts`;
  const own = /\/(src|bench)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  return url;
}

export async function summarizeProfile(file: string, top = 18) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfByArea = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node) continue;
    total += dt;
    const area = areaOf(node.callFrame);
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + dt);
    // Inclusive time of project functions: each function counted once per sample, however deep the recursion.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (!frame || /\/node_modules\//.test(frame.url) || !/\/(src|dist)\//.test(frame.url)) continue;
      // Line numbers are not kept through the tsx transform; name and file are enough here.
      const key = `${frame.functionName || '(anonymous)'} ${areaOf(frame)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  }
  const idle = selfByArea.get('(idle)') ?? 0;
  const busy = total - idle;
  const pct = (us: number) => `${((100 * us) / Math.max(busy, 1)).toFixed(1)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
  const areas = [...selfByArea.entries()].filter(([a]) => a !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top);
  const functions = [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [
    `sampled ${ms(total)}, busy ${ms(busy)} (idle ${ms(idle)}); shares are of busy time`,
    'self time by area:',
    ...areas.map(([area, us]) => `  ${pct(us).padStart(6)}  ${ms(us).padStart(9)}  ${area}`),
    'inclusive time of project functions:',
    ...functions.map(([fn, us]) => `  ${pct(us).padStart(6)}  ${ms(us).padStart(9)}  ${fn}`),
  ];
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    selfByArea: Object.fromEntries(areas.map(([a, us]) => [a, us / 1000])),
    inclusiveProjectFunctions: Object.fromEntries(functions.map(([f, us]) => [f, us / 1000])),
    text: lines.join('\n'),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx bench/profile-summary.ts <file.cpuprofile>\n');
    process.exit(2);
  }
  summarizeProfile(file).then(
    (s) => process.stdout.write(`${s.text}\n`),
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
}
