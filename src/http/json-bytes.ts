import type { FastifyReply } from 'fastify';

/**
 * A large JSON response as UTF-8 bytes, from each item's own JSON text. `JSON.stringify` of a whole page
 * builds a string of many pieces, which the response then flattens into one string and encodes: for a feed
 * page of 1000 entries (800 KB of mostly two-byte text) that costs twice the stringify itself. Encoding each
 * item's own (small, flat) string and joining the bytes does the same work at a fraction of the cost, and a
 * Buffer needs no second pass to learn its length for `content-length`.
 */
export function itemsPageBytes(items: readonly string[], rest: Readonly<Record<string, unknown>>): Buffer {
  const parts: Buffer[] = [OPEN_ITEMS];
  for (let i = 0; i < items.length; i++) {
    if (i > 0) parts.push(COMMA);
    parts.push(Buffer.from(items[i]!));
  }
  const tail = JSON.stringify(rest);
  parts.push(Buffer.from(tail === '{}' ? ']}' : `],${tail.slice(1)}`));
  return Buffer.concat(parts);
}

const OPEN_ITEMS = Buffer.from('{"items":[');
const COMMA = Buffer.from(',');

/** Sends bytes made by `itemsPageBytes` as the JSON they are; the route's serializer is not involved. */
export function sendJsonBytes(reply: FastifyReply, bytes: Buffer): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(bytes);
}
