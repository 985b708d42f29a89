import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AppError } from '../../src/errors.js';
import { admissionClass, AdmissionGate, admissionLimits } from '../../src/http/admission.js';

const limits = (capacity: number, queueMax = 10, queueTimeoutMs = 60_000, targetMs = 0) => ({ capacity, queueMax, queueTimeoutMs, retryAfterSeconds: 1, targetMs });

/** Settles pending promise callbacks. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

describe('admission gate', () => {
  it('runs up to its capacity in cost units, queues the next, and grants it when a slot frees', async () => {
    const gate = new AdmissionGate(limits(8));
    const a = await gate.acquire('list', 2);
    const b = await gate.acquire('list', 2);
    await gate.acquire('list', 2);
    await gate.acquire('list', 2);
    expect(gate.stats().inFlight).toBe(8);
    const waiting = track(gate.acquire('list', 2));
    await tick();
    expect(waiting.settled).toBe(false);
    expect(gate.stats().waiting).toBe(1);
    a();
    a(); // releasing twice frees once
    await tick();
    expect(waiting.settled).toBe(true);
    expect(gate.stats()).toMatchObject({ inFlight: 8, waiting: 0 });
    b();
    expect(gate.stats().inFlight).toBe(6);
  });

  it('tryAcquire grants at once only what acquire would grant at once, and never jumps the queue', async () => {
    const gate = new AdmissionGate(limits(4));
    const a = gate.tryAcquire('read', 1);
    expect(a).toBeTypeOf('function');
    for (let i = 0; i < 3; i++) expect(gate.tryAcquire('read', 1)).toBeTypeOf('function');
    expect(gate.stats().inFlight).toBe(4);
    // Full: nothing taken, nothing queued.
    expect(gate.tryAcquire('read', 1)).toBeUndefined();
    expect(gate.stats()).toMatchObject({ inFlight: 4, waiting: 0 });
    a!();
    // Three units in flight and a request of two waiting: one more unit would fit, but goes behind it.
    const waiting = track(gate.acquire('read', 2));
    await tick();
    expect(waiting.settled).toBe(false);
    expect(gate.tryAcquire('read', 1)).toBeUndefined();
    expect(gate.stats()).toMatchObject({ inFlight: 3, waiting: 1 });
  });

  it('refuses with 503 overloaded and Retry-After when the queue is full, without waiting', async () => {
    const gate = new AdmissionGate(limits(4, 1));
    for (let i = 0; i < 4; i++) await gate.acquire('read', 1);
    const queued = track(gate.acquire('read', 1));
    const refused = track(gate.acquire('read', 1));
    await tick();
    expect(queued.settled).toBe(false);
    expect(refused.error).toBeInstanceOf(AppError);
    expect(refused.error).toMatchObject({ status: 503, code: 'overloaded', headers: { 'retry-after': '1' } });
    expect(gate.saturated('read')).toBe(true);
    expect(gate.saturated('list')).toBe(false);
  });

  it('refuses a waiter at its deadline and leaves no trace in the queue', async () => {
    const gate = new AdmissionGate(limits(1, 5, 20));
    const held = await gate.acquire('feed', 1);
    await expect(gate.acquire('feed', 1)).rejects.toMatchObject({ status: 503, code: 'overloaded' });
    expect(gate.stats()).toMatchObject({ inFlight: 1, waiting: 0 });
    held();
    expect(gate.stats().inFlight).toBe(0);
  });

  it('gives up the place in the queue when the client goes away', async () => {
    const gate = new AdmissionGate(limits(1));
    const held = await gate.acquire('list', 1);
    const controller = new AbortController();
    const gone = track(gate.acquire('list', 1, controller.signal));
    const next = track(gate.acquire('list', 1));
    controller.abort();
    await tick();
    expect(gone.error).toMatchObject({ code: 'overloaded' });
    expect(gate.stats().waiting).toBe(1);
    held();
    await tick();
    expect(next.settled).toBe(true);
    expect(gate.stats()).toMatchObject({ inFlight: 1, waiting: 0 });
  });

  it('lets a class borrow idle capacity, but a class waiting below its share goes first', async () => {
    // Capacity 8: each of the four classes is guaranteed 2.
    const gate = new AdmissionGate(limits(8));
    const lists = [];
    for (let i = 0; i < 8; i++) lists.push(await gate.acquire('list', 1));
    expect(gate.stats().byClass.list.inFlight).toBe(8);
    const moreList = track(gate.acquire('list', 1));
    const feed = track(gate.acquire('feed', 2));
    await tick();
    // One slot frees: not enough for the feed page, and the list (over its share) may not take it while the feed waits.
    lists.pop()!();
    await tick();
    expect(moreList.settled).toBe(false);
    expect(feed.settled).toBe(false);
    lists.pop()!();
    await tick();
    expect(feed.settled).toBe(true);
    expect(moreList.settled).toBe(false);
    // Once the feed is served, the list may borrow again.
    lists.pop()!();
    await tick();
    expect(moreList.settled).toBe(true);
  });

  it('never counts a request as more than half the capacity, so a large page shares it', async () => {
    const gate = new AdmissionGate(limits(4));
    const release = await gate.acquire('feed', 20);
    expect(gate.stats().inFlight).toBe(2);
    release();
  });

  it('starts at a quarter of its capacity, grows while work is in time under demand, and shrinks while it is slow', async () => {
    let clock = 0;
    const gate = new AdmissionGate(limits(8, 0, 60_000, 500), () => clock);
    expect(gate.stats().limit).toBe(2);
    // Work in time while requests are refused grows the capacity, never past the configured one.
    for (let round = 0; round < 100; round++) {
      const held = [];
      for (let i = 0; i < gate.stats().limit; i++) held.push(await gate.acquire('list', 1));
      await expect(gate.acquire('list', 1)).rejects.toMatchObject({ code: 'overloaded' });
      for (const release of held) release();
    }
    expect(gate.stats().limit).toBe(8);
    const slow = [];
    for (let i = 0; i < 8; i++) slow.push(await gate.acquire('list', 1));
    clock = 2_000;
    slow.pop()!();
    expect(gate.stats().limit).toBe(6);
    // One cut per target period: the other slow ones, admitted before it, do not cut again.
    slow.pop()!();
    expect(gate.stats().limit).toBe(6);
    for (const release of slow) release();
  });

  it('is not cut by slow writes or reads by id and statistics, whose time the capacity does not cause', async () => {
    let clock = 0;
    const gate = new AdmissionGate(limits(8, 10, 60_000, 100), () => clock);
    const before = gate.stats().limit;
    for (const klass of ['write', 'read'] as const) {
      for (let round = 0; round < 5; round++) {
        const release = await gate.acquire(klass, 1);
        clock += 1_000;
        release();
      }
    }
    expect(gate.stats().limit).toBe(before);
    const page = await gate.acquire('list', 1);
    clock += 1_000;
    page();
    expect(gate.stats().limit).toBeLessThan(before);
  });

  it('counts a large page as at most half the capacity in force, so a shrunk capacity never blocks it', async () => {
    let clock = 0;
    const gate = new AdmissionGate(limits(8, 10, 60_000, 100), () => clock);
    for (let round = 0; round < 10; round++) {
      const release = await gate.acquire('list', 1);
      clock += 1_000;
      release();
    }
    expect(gate.stats().limit).toBe(1);
    const page = await gate.acquire('feed', 4);
    expect(gate.stats().inFlight).toBe(1);
    page();
  });

  it('classes routes by method and URL', () => {
    expect(admissionClass('GET', '/v1/officers')).toBe('list');
    expect(admissionClass('GET', '/v1/audit')).toBe('list');
    expect(admissionClass('GET', '/v1/changes')).toBe('feed');
    expect(admissionClass('GET', '/v1/officers/:id')).toBe('read');
    expect(admissionClass('GET', '/v1/stats/quarterly')).toBe('read');
    expect(admissionClass('POST', '/v1/batch')).toBe('write');
    expect(admissionClass('PATCH', '/v1/officers/:id')).toBe('write');
  });

  it('scales its defaults with the database pool', () => {
    expect(admissionLimits(loadConfig({ DB_POOL_MAX: '5' }))).toMatchObject({ capacity: 10, queueMax: 10, queueTimeoutMs: 250, targetMs: 500 });
    expect(admissionLimits(loadConfig({ ADMISSION_CAPACITY: '7', ADMISSION_QUEUE_MAX: '0', ADMISSION_QUEUE_TIMEOUT_MS: '0' }))).toMatchObject({
      capacity: 7,
      queueMax: 0,
      queueTimeoutMs: 0,
    });
  });
});
