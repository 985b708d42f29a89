import { describe, expect, it } from 'vitest';
import { toAppError } from '../../src/plugins/problem.js';

describe('toAppError', () => {
  it('tells a request body cut off by its connection from a database connection reset', () => {
    // Node's error on a request whose connection closed mid-body (connResetException('aborted')).
    const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    expect(toAppError(aborted)).toMatchObject({ status: 408, code: 'request_timeout' });
    // A socket of the pool reset under a query: the database is unreachable for now.
    const database = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read', errno: -104 });
    expect(toAppError(database)).toMatchObject({ status: 503, code: 'service_unavailable' });
  });

  it('gives a plugin’s own 415 and 413 the codes their statuses stand for', () => {
    const refused = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode, code: 'FST_PLUGIN_OWN' });
    expect(toAppError(refused(415, 'Unsupported Content-Encoding: compress'))).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(toAppError(refused(413, 'too large'))).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(toAppError(refused(400, 'odd'))).toMatchObject({ status: 400, code: 'bad_request' });
  });
});
