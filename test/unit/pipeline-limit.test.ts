/**
 * The per-connection pipeline limit (limits.ts): requests past MAX_PIPELINED_REQUESTS are not served; a
 * connection with only reads unanswered is cut off at once, one with a write running is paused and drained —
 * unless it sends as many again meanwhile, which would otherwise all be kept until it closes.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { inRequestOrder, MAX_PIPELINED_REQUESTS, withinPipelineLimit } from '../../src/http/limits.js';

function connection() {
  const socket = { destroyed: false, paused: false, destroy() { this.destroyed = true; }, pause() { this.paused = true; } };
  const send = (method: string) => {
    const response = new EventEmitter();
    const served = withinPipelineLimit({ socket, method } as unknown as IncomingMessage, response);
    return { served, answer: () => response.emit('close') };
  };
  return { socket, send };
}

describe('withinPipelineLimit', () => {
  it('serves up to the limit, and again as answers go out', () => {
    const { socket, send } = connection();
    const sent = Array.from({ length: MAX_PIPELINED_REQUESTS }, () => send('GET'));
    expect(sent.every((r) => r.served)).toBe(true);
    sent[0]!.answer();
    expect(send('GET').served).toBe(true);
    expect(socket.destroyed).toBe(false);
  });

  it('cuts off a connection with only reads unanswered at the first request past the limit', () => {
    const { socket, send } = connection();
    for (let i = 0; i < MAX_PIPELINED_REQUESTS; i++) send('GET');
    expect(send('GET').served).toBe(false);
    expect(socket.destroyed).toBe(true);
  });

  it('drains a connection with a write running, and cuts it off if it sends as many again meanwhile', () => {
    const { socket, send } = connection();
    send('PUT');
    for (let i = 1; i < MAX_PIPELINED_REQUESTS; i++) send('GET');
    expect(send('GET').served).toBe(false);
    expect(socket).toMatchObject({ paused: true, destroyed: false });
    for (let i = 0; i < MAX_PIPELINED_REQUESTS; i++) expect(send('GET').served).toBe(false);
    expect(socket.destroyed).toBe(false);
    expect(send('GET').served).toBe(false);
    expect(socket.destroyed).toBe(true);
  });
});

describe('inRequestOrder', () => {
  /** Requests of one connection: which have started, and a way to answer each. */
  function connection() {
    const socket = { destroyed: false, writable: true };
    const started: string[] = [];
    const send = (name: string, method: string) => {
      const response = new EventEmitter();
      inRequestOrder({ socket, method, resume() {} } as unknown as IncomingMessage, response, () => started.push(name));
      return () => response.emit('close');
    };
    return { socket, started, send };
  }

  it('starts reads behind reads at once', () => {
    const { started, send } = connection();
    send('a', 'GET');
    send('b', 'HEAD');
    send('c', 'GET');
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('starts a write once every request ahead of it is answered, and what follows a write once it is', () => {
    const { started, send } = connection();
    const answerRead = send('read', 'GET');
    const answerPut = send('put', 'PUT');
    const answerAfter = send('after', 'GET');
    send('delete', 'DELETE');
    expect(started).toEqual(['read']);
    answerRead();
    expect(started).toEqual(['read', 'put']);
    answerPut();
    expect(started).toEqual(['read', 'put', 'after']);
    answerAfter();
    expect(started).toEqual(['read', 'put', 'after', 'delete']);
  });

  it.each([
    ['an answer ended (Connection: close)', (socket: { writable: boolean }) => (socket.writable = false)],
    ['broke meanwhile', (socket: { destroyed: boolean }) => (socket.destroyed = true)],
  ] as const)('starts nothing more on a connection that %s', (_, end) => {
    const { socket, started, send } = connection();
    const answer = send('write', 'PUT');
    send('next', 'GET');
    end(socket);
    answer();
    expect(started).toEqual(['write']);
  });
});
