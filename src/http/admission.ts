import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { closeAfterEarlyAnswer, isEnding, whenPacketRead } from './client-error.js';
import { inRequestOrder, withinPipelineLimit } from './limits.js';

/**
 * Admission control: how much database work and rendering may be in flight at once (docs/decisions.md,
 * "Load without collapse").
 *
 * Every route that needs a token does its work inside a slot of a weighted gate. A request costs units by
 * how much it reads and keeps in memory — a page of 500 officers with `pii:read` (decrypted and audited row
 * by row) costs ten times a read by id — and the gate lets at most `capacity` units run at once. Bounding
 * what runs at once is what bounds the process's memory and the pool's queue; a request that cannot start
 * waits at most `queueTimeoutMs` in a short queue of its class, and one beyond the queue, or past the
 * deadline, is answered at once: 503 `overloaded` with `Retry-After`, not left queued for seconds.
 *
 * Classes keep heavy routes from starving the others, and the others from starving them: each class is
 * guaranteed an equal share of the capacity and may borrow what the others leave idle, but not while
 * another class waits below its share. Within a class the queue is first come, first served: a large
 * request at its head is not overtaken by small ones behind it.
 *
 * Routes without a token (health, readiness, the documents) are never gated: they answer under overload.
 */

export const ADMISSION_CLASSES = ['read', 'list', 'feed', 'write'] as const;
export type AdmissionClass = (typeof ADMISSION_CLASSES)[number];

export interface AdmissionLimits {
  /** Cost units that may run at once, over all classes. */
  capacity: number;
  /** Requests that may wait for a slot, per class. */
  queueMax: number;
  /** How long a request may wait before it is refused. */
  queueTimeoutMs: number;
  /** The Retry-After of a refusal, in seconds. */
  retryAfterSeconds: number;
  /** Work inside the gate slower than this shrinks the capacity (0: a fixed capacity). */
  targetMs: number;
}

type AdmissionConfig = Pick<
  Config,
  'DB_POOL_MAX' | 'ADMISSION_CAPACITY' | 'ADMISSION_QUEUE_MAX' | 'ADMISSION_QUEUE_TIMEOUT_MS' | 'ADMISSION_TARGET_MS'
>;

/** The limits in force: the configured ones, else defaults that scale with the database pool. */
export function admissionLimits(config: AdmissionConfig): AdmissionLimits {
  return {
    capacity: config.ADMISSION_CAPACITY ?? 2 * config.DB_POOL_MAX,
    queueMax: config.ADMISSION_QUEUE_MAX ?? 2 * config.DB_POOL_MAX,
    queueTimeoutMs: config.ADMISSION_QUEUE_TIMEOUT_MS,
    retryAfterSeconds: 1,
    targetMs: config.ADMISSION_TARGET_MS,
  };
}

export const overloaded = (retryAfterSeconds: number, detail = 'The service is at capacity; retry after the Retry-After seconds.') =>
  new AppError(503, 'overloaded', 'Overloaded', { detail, headers: { 'retry-after': String(retryAfterSeconds) } });

interface Waiter {
  klass: AdmissionClass;
  cost: number;
  grant: (release: () => void) => void;
  refuse: (err: AppError) => void;
}

export interface GateStats {
  /** The capacity in force now (it shrinks while work runs slow and grows back, up to `limits.capacity`). */
  limit: number;
  inFlight: number;
  waiting: number;
  byClass: Record<AdmissionClass, { inFlight: number; waiting: number }>;
}

/** How far the capacity shrinks on slow work, at most once per target period. */
const DECREASE = 0.75;

/** The weighted gate itself: no Fastify; `now` is injectable for tests. */
export class AdmissionGate {
  private used = 0;
  private readonly usedBy = new Map<AdmissionClass, number>(ADMISSION_CLASSES.map((c) => [c, 0]));
  private readonly queues = new Map<AdmissionClass, Waiter[]>(ADMISSION_CLASSES.map((c) => [c, []]));
  /** The capacity in force, between 1 and limits.capacity; fractional while it grows back. */
  private limit: number;
  private lastDecrease = Number.NEGATIVE_INFINITY;
  /** The most a request may cost: half the full capacity (and a request alone always runs, see fits). */
  private readonly maxCost: number;

  constructor(
    readonly limits: AdmissionLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    // Slow start: a quarter of the capacity at first, more only as work proves to be in time (adapt). With a
    // fixed capacity (no target) the whole of it from the start.
    this.limit = limits.targetMs ? Math.max(1, Math.floor(limits.capacity / 4)) : limits.capacity;
    this.maxCost = Math.max(1, Math.floor(limits.capacity / 2));
  }

  /** Each class's guaranteed share of the capacity in force. */
  private get share(): number {
    return Math.max(1, Math.floor(this.limit) / ADMISSION_CLASSES.length);
  }

  /** A request's cost as the gate counts it: at least 1, at most half the full capacity. */
  private effectiveCost(cost: number): number {
    return Math.min(Math.max(1, Math.ceil(cost)), this.maxCost);
  }

  /** True when the class's queue is full: a new request of it would be refused whatever it costs. */
  saturated(klass: AdmissionClass): boolean {
    return this.queues.get(klass)!.length >= this.limits.queueMax && !this.fits(klass, 1);
  }

  /**
   * What a request counts for right now: its cost, but at most half the capacity in force, so that a large
   * page can run beside other work after the capacity shrank (it still takes the room of several small ones).
   */
  private counted(cost: number): number {
    return Math.min(cost, Math.max(1, Math.floor(Math.floor(this.limit) / 2)));
  }

  private fits(klass: AdmissionClass, requested: number): boolean {
    const cost = this.counted(requested);
    // Alone, anything runs.
    if (this.used === 0) return true;
    if (this.used + cost > Math.floor(this.limit)) return false;
    const mine = this.usedBy.get(klass)!;
    // Within its share, or its first request: a class with nothing running is never kept out by the others.
    if (mine === 0 || mine + cost <= this.share) return true;
    // Beyond its share a class borrows only while no other class waits below its own share.
    for (const other of ADMISSION_CLASSES) {
      if (other !== klass && this.queues.get(other)!.length > 0 && this.usedBy.get(other)! < this.share) return false;
    }
    return true;
  }

  private take(klass: AdmissionClass, requested: number): () => void {
    const cost = this.counted(requested);
    this.used += cost;
    this.usedBy.set(klass, this.usedBy.get(klass)! + cost);
    const started = this.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= cost;
      this.usedBy.set(klass, this.usedBy.get(klass)! - cost);
      this.adapt(klass, cost, this.now() - started);
      this.dispatch();
    };
  }

  /**
   * Additive increase, multiplicative decrease on the time work takes inside the gate (queries, waits for a
   * connection, rendering): slower than the target, the capacity shrinks by a quarter (once per target period,
   * as work admitted before the cut is slow too); in time while requests wait or are refused, it grows by about
   * one unit per capacity's worth of work done. A database slower than expected (a poor plan, a busy host)
   * thus gets fewer requests at once instead of longer queues in front of every statement.
   *
   * Only pages (lists and the feed) are slow for that reason: their time is the database's and the
   * process's work, in proportion to their cost. A write may wait for row locks another client holds, and a
   * statistic is an aggregate over a province that takes most of a second by itself; neither says the
   * capacity is too high, and letting them cut it let one client's slow batches slow every reader (a
   * client writing conflicting batches in a loop took others' reads by id from 7 ms to 300 ms at the median).
   * Any class's work in time grows it back.
   */
  private adapt(klass: AdmissionClass, cost: number, ms: number): void {
    const target = this.limits.targetMs;
    if (!target) return;
    if (ms > target) {
      if (klass !== 'list' && klass !== 'feed') return;
      const at = this.now();
      if (at - this.lastDecrease < target) return;
      this.lastDecrease = at;
      this.limit = Math.max(1, Math.floor(this.limit * DECREASE));
    } else if (this.demand) {
      this.limit = Math.min(this.limits.capacity, this.limit + cost / Math.max(1, this.limit));
    }
  }

  /** Set when a request had to wait or was refused since the capacity last grew. */
  private demand = false;

  /** Grants queued requests while they fit: classes furthest below their share first, each class in order. */
  private dispatch(): void {
    this.demand = false;
    for (;;) {
      let chosen: Waiter | undefined;
      let best = Number.POSITIVE_INFINITY;
      for (const klass of ADMISSION_CLASSES) {
        const head = this.queues.get(klass)![0];
        if (!head) continue;
        this.demand = true;
        if (!this.fits(klass, head.cost)) continue;
        const load = this.usedBy.get(klass)! / this.share;
        if (load < best) {
          best = load;
          chosen = head;
        }
      }
      if (!chosen) return;
      this.queues.get(chosen.klass)!.shift();
      chosen.grant(this.take(chosen.klass, chosen.cost));
    }
  }

  private refusal(detail?: string): AppError {
    this.demand = true;
    return overloaded(this.limits.retryAfterSeconds, detail);
  }

  /** A refusal made outside the gate (the early one): counts as demand for capacity. */
  noteRefusal(): void {
    this.demand = true;
  }

  /**
   * The slot `acquire` would grant at once (it fits and nobody of its class waits), as its release function;
   * undefined when the request would have to wait or be refused.
   */
  tryAcquire(klass: AdmissionClass, requestedCost: number): (() => void) | undefined {
    const cost = this.effectiveCost(requestedCost);
    if (this.queues.get(klass)!.length === 0 && this.fits(klass, cost)) return this.take(klass, cost);
    return undefined;
  }

  /**
   * A slot for `cost` units of `klass`: the release function at once when it fits and nobody of its class
   * waits, else after a wait of at most the deadline. Refuses with 503 `overloaded` when the class's queue is
   * full or the deadline passes; `signal` (the client going away) gives up the place in the queue.
   */
  acquire(klass: AdmissionClass, requestedCost: number, signal?: AbortSignal): Promise<() => void> {
    const release = this.tryAcquire(klass, requestedCost);
    if (release) return Promise.resolve(release);
    const cost = this.effectiveCost(requestedCost);
    const queue = this.queues.get(klass)!;
    if (queue.length >= this.limits.queueMax || this.limits.queueTimeoutMs === 0) return Promise.reject(this.refusal());
    if (signal?.aborted) return Promise.reject(this.refusal('The client went away while waiting.'));
    this.demand = true;
    return new Promise((resolve, reject) => {
      const leave = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        // The head leaving may let the next ones (of this or another class) in.
        this.dispatch();
      };
      const waiter: Waiter = {
        klass,
        cost,
        grant: (release) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        refuse: (err) => {
          leave();
          reject(err);
        },
      };
      const onAbort = () => waiter.refuse(this.refusal('The client went away while waiting.'));
      const timer = setTimeout(() => waiter.refuse(this.refusal()), this.limits.queueTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
    });
  }

  stats(): GateStats {
    const byClass = Object.fromEntries(
      ADMISSION_CLASSES.map((c) => [c, { inFlight: this.usedBy.get(c)!, waiting: this.queues.get(c)!.length }]),
    ) as GateStats['byClass'];
    return {
      limit: Math.floor(this.limit),
      inFlight: this.used,
      waiting: ADMISSION_CLASSES.reduce((n, c) => n + this.queues.get(c)!.length, 0),
      byClass,
    };
  }
}

/** Units per page: one unit is about a hundred records rendered (and, with `pii:read`, as many decrypted and audited). */
const ROWS_PER_UNIT = 100;

/** The class of a gated route from its method and URL; the cost needs the validated request (admissionCost). */
export function admissionClass(method: string, url: string): AdmissionClass {
  if (method !== 'GET' && method !== 'HEAD') return 'write';
  if (url === '/v1/changes') return 'feed';
  // Collection lists and the audit log: `/v1/<name>` with a page size. Reads by id, by key and the statistics are `read`.
  if (/^\/v1\/[a-z-]+$/.test(url) && !url.startsWith('/v1/stats')) return 'list';
  return 'read';
}

/** What a request costs in units: pages by their size (twice with `pii:read`), a batch by its operations, else 1. */
export function admissionCost(klass: AdmissionClass, request: FastifyRequest): number {
  const pii = request.call?.principal?.scopes.has('pii:read') ? 2 : 1;
  if (klass === 'list' || klass === 'feed') {
    const limit = Number((request.query as { limit?: unknown } | undefined)?.limit);
    const rows = Number.isFinite(limit) && limit > 0 ? limit : ROWS_PER_UNIT;
    return Math.ceil(rows / ROWS_PER_UNIT) * pii;
  }
  if (klass === 'write') {
    const operations = (request.body as { operations?: unknown } | undefined)?.operations;
    return Array.isArray(operations) ? Math.ceil(operations.length / ROWS_PER_UNIT) : 1;
  }
  return pii;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * How soon a connection refused once may have its next refusal: one asked again sooner waits out the rest
 * before its answer. A client that retries the moment it is refused, ignoring Retry-After (load generators,
 * naive retry loops), otherwise makes thousands of refusals a second, and under that storm the process
 * accepts new connections slowly (libuv takes one per event-loop turn), so clients not yet accepted wait for
 * seconds. Paced, a client that waits for each answer is refused at most once per REFUSAL_PACE_MS per
 * connection; a first refusal is answered at once.
 */
export const REFUSAL_PACE_MS = 100;

/** When each connection's last early refusal was (or is due to be) sent, by performance.now(). */
const refusedAt = new WeakMap<Socket, number>();

/**
 * The cheapest refusal there is, for the HTTP server's request listener ahead of Fastify: when the class of
 * a gated path (any under `/v1/`) has its queue full, a prepared 503 `overloaded` problem is written —
 * no routing, hooks, token check or serializer; at once, unless the connection was refused less than
 * REFUSAL_PACE_MS ago. Under a flood of clients that retry at once, refusals are most of the work; the
 * cheaper and the fewer, the more of the process is left for the requests admitted. Returns true when it
 * took the request. (Injected requests skip it; the onRequest check below refuses them.)
 */
export function earlyRefusal(gate: AdmissionGate): (req: IncomingMessage, res: ServerResponse) => boolean {
  const retryAfter = String(gate.limits.retryAfterSeconds);
  const { title, detail, code, status } = overloaded(gate.limits.retryAfterSeconds);
  const head = JSON.stringify({ type: `urn:officer-registry:problem:${code}`, title, status, detail, code }).slice(0, -1);
  return (req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith('/v1/')) return false;
    const query = url.indexOf('?');
    const klass = admissionClass(req.method ?? 'GET', query >= 0 ? url.slice(0, query) : url);
    if (!gate.saturated(klass)) return false;
    gate.noteRefusal();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const body = `${head},"requestId":${JSON.stringify(requestId)}}`;
    const answer = () => {
      if (res.destroyed) return;
      // A write refused before its body arrived: the connection ends with the answer, which says so.
      closeAfterEarlyAnswer(req, res);
      res.writeHead(503, {
        'content-type': 'application/problem+json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        'retry-after': retryAfter,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-request-id': requestId,
      });
      res.end(body);
    };
    const now = performance.now();
    const last = refusedAt.get(req.socket);
    // A refusal of this connection is still waiting for its time: this request was pipelined behind it, and its
    // answer is queued right after that one, not timed apart. One waiting answer per connection at most, so
    // requests pipelined by the thousand neither hold a timer each nor escape the backpressure of queued answers.
    if (last !== undefined && last > now) {
      whenPacketRead(req, answer);
      return true;
    }
    const due = last === undefined ? now : Math.max(now, last + REFUSAL_PACE_MS);
    refusedAt.set(req.socket, due);
    if (due > now) setTimeout(answer, due - now);
    else whenPacketRead(req, answer);
    return true;
  };
}

/**
 * Puts `refuse` in front of Fastify on the server's request listener, keeping the server Fastify made (its
 * timeouts and connection limits), behind the per-connection limits that need to see every request: none
 * served on a connection that is ending, at most MAX_PIPELINED_REQUESTS unanswered, a write started only once
 * the requests ahead of it are answered (`inRequestOrder`). Called once, right after the app is constructed.
 */
export function refuseEarlyOn(server: Server, refuse: ReturnType<typeof earlyRefusal>): void {
  const listeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (listeners.length !== 1) throw new Error(`expected one request listener on the server, found ${listeners.length}`);
  const fastifyHandler = listeners[0]!;
  server.removeListener('request', fastifyHandler);
  server.on('request', (req, res) => {
    // Read behind an early answer that ends the connection (client-error.ts): its answer could not be sent.
    if (isEnding(req.socket)) {
      req.resume();
      return;
    }
    if (!withinPipelineLimit(req, res)) {
      req.resume();
      return;
    }
    inRequestOrder(req, res, () => {
      if (!refuse(req, res)) fastifyHandler(req, res);
    });
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by the admission plugin on the routes it gates. */
    admission?: AdmissionClass;
  }
}

/** The client going away (the response closed before it was sent), as a signal for the wait. */
function clientGone(reply: FastifyReply): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.once('close', onClose);
  return { signal: controller.signal, dispose: () => reply.raw.off('close', onClose) };
}

/**
 * Gates the handler of every route that declares a scope (registered before the routes). The slot is held
 * for the handler's whole work — queries, rendering, audit rows — and released when it ends however it ends
 * (an answer, an error, a client that went away), so an error or an abort never leaks a slot.
 *
 * Only gated routes get the plugin's hooks, added to each as it is declared: a public route runs none of
 * them, and a gated one knows its class without looking anything up per request.
 */
export const admissionPlugin = fp(
  async (app: FastifyInstance, options: { gate: AdmissionGate }) => {
    const { gate } = options;
    app.decorate('admission', gate);

    app.addHook('onRoute', (route) => {
      if (!route.config?.scope) return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const klass = admissionClass(methods.includes('GET') ? 'GET' : String(methods[0]), route.url ?? route.path);
      route.config = { ...route.config, admission: klass };
      const handler = route.handler as RouteHandlerMethod;
      route.handler = async function admitted(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
        const cost = admissionCost(klass, request);
        // Mostly there is room at once: no promise, no watch on the connection.
        let release = gate.tryAcquire(klass, cost);
        if (!release) {
          const gone = clientGone(reply);
          try {
            release = await gate.acquire(klass, cost, gone.signal);
          } finally {
            gone.dispose();
          }
        }
        try {
          return await handler.call(this, request, reply);
        } finally {
          release();
        }
      } as typeof route.handler;
      // A class whose queue is full refuses before the token is even verified (the auth plugin, registered
      // after this one, adds its check behind this one): a refusal costs next to nothing.
      route.onRequest = [
        ...routeHooks(route.onRequest),
        function refuseWhenSaturated(_request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) {
          if (!gate.saturated(klass)) return done();
          gate.noteRefusal();
          done(overloaded(gate.limits.retryAfterSeconds));
        },
      ];
    });
  },
  { name: 'admission', dependencies: ['problem'] },
);

/** A route's own hooks of one kind as a list (a route may declare none, one, or several). */
export function routeHooks<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The admission gate (its stats, for tests and diagnosis). */
    admission: AdmissionGate;
  }
}
