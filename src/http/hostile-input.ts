import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { badTextReason } from '../domain/text.js';
import { AppError, validationFailed, type FieldError } from '../errors.js';

/** Deepest nesting of arrays and objects a JSON body may have; records need 5 or 6 levels. */
export const MAX_JSON_DEPTH = 32;
/** Bad values reported per request: enough to fix a batch, bounded so the answer stays small. */
const MAX_REPORTED = 50;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Most arrays and objects a JSON body may hold. A batch of 1000 records holds a few thousand; millions of
 * `{}` in 7 MB parse to some 150 MB of objects, which the parser's own scan for prototype members (a body that
 * also names `constructor`) doubled past the image's 256 MB heap, and which took 0.7 s to validate otherwise.
 */
export const MAX_JSON_CONTAINERS = 200_000;

/**
 * What makes the JSON text too big a shape to parse: nesting arrays/objects deeper than `maxDepth`, or more
 * than `maxContainers` of them. One pass over the characters that stops at the first excess, so a 7 MiB
 * `[[[[…` costs 33 characters, never a parse or a recursive walk.
 */
export function shapeExcess(text: string, maxDepth: number, maxContainers = MAX_JSON_CONTAINERS): 'depth' | 'containers' | undefined {
  let depth = 0;
  let containers = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return 'depth';
      if (++containers > maxContainers) return 'containers';
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return undefined;
}

const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** What `findInJson` asks of each string value and each member (name and value); a reason is a finding. */
interface JsonCheck {
  value?(text: string): string | undefined;
  member?(name: string, value: unknown): string | undefined;
}

/** An array or object being walked: its members' names (objects) and the position of the next one. */
interface Frame {
  container: unknown[] | Record<string, unknown>;
  names: string[] | undefined;
  next: number;
}

/** The JSON Pointer of the member last taken from each frame (`next - 1`). */
function pointerOf(frames: Frame[]): string {
  const parts = frames.map((f) => pointerToken(f.names ? f.names[f.next - 1]! : String(f.next - 1)));
  return parts.length === 0 ? '/' : `/${parts.join('/')}`;
}

const frameOf = (value: unknown): Frame | undefined =>
  Array.isArray(value)
    ? { container: value, names: undefined, next: 0 }
    : value !== null && typeof value === 'object'
      ? { container: value as Record<string, unknown>, names: Object.keys(value), next: 0 }
      : undefined;

/**
 * The findings of `check` in a parsed JSON value, each with its JSON Pointer, in document order; stops after
 * `limit` findings. Depth-first with one frame per open array or object, so it holds memory for the nesting
 * depth only — not one entry per element, which for a body of 3.9 million array elements took more than a
 * 256 MB heap — and does not recurse.
 */
function findInJson(root: unknown, check: JsonCheck, limit = MAX_REPORTED): FieldError[] {
  const found: FieldError[] = [];
  const report = (path: string, message: string) => found.push({ path, message, in: 'body' });
  if (typeof root === 'string') {
    const reason = check.value?.(root);
    if (reason) report('/', reason);
    return found;
  }
  const first = frameOf(root);
  const frames: Frame[] = first ? [first] : [];
  while (frames.length > 0 && found.length < limit) {
    const frame = frames[frames.length - 1]!;
    const { container, names } = frame;
    if (frame.next >= (names ? names.length : (container as unknown[]).length)) {
      frames.pop();
      continue;
    }
    const name = names?.[frame.next];
    const value = name === undefined ? (container as unknown[])[frame.next] : (container as Record<string, unknown>)[name];
    frame.next++;
    if (name !== undefined) {
      const reason = check.member?.(name, value);
      if (reason) report(pointerOf(frames), reason);
    }
    if (typeof value === 'string') {
      const reason = check.value?.(value);
      if (reason) report(pointerOf(frames), reason);
    } else {
      const child = frameOf(value);
      if (child) frames.push(child);
    }
  }
  return found.slice(0, limit);
}

/** Every string (values and member names) in a parsed JSON value that PostgreSQL text cannot hold, with its JSON Pointer. */
export function findBadText(root: unknown, limit = MAX_REPORTED): FieldError[] {
  return findInJson(
    root,
    {
      value: badTextReason,
      member: (name) => {
        const reason = badTextReason(name);
        return reason && `member name ${reason}`;
      },
    },
    limit,
  );
}

/** Bodies up to this size the JSON parser refused are parsed again to find a member it refuses (below). */
const LOCATE_MEMBERS_BYTES = 1024 * 1024;

/**
 * The members the JSON parser refuses so that no body can reach an object's prototype: `__proto__`, and
 * `constructor` holding `prototype`. The text is valid JSON, so the client is told which member, not
 * "malformed JSON" — found by parsing the text again with `JSON.parse` (which keeps `__proto__` as an own
 * member, polluting nothing). Undefined when the text does not parse at all, or is larger than
 * LOCATE_MEMBERS_BYTES: a second parse of a large body could double what the first one held (millions of `{}`
 * in 7 MB took the process past the image's 256 MB heap), and such a body is answered `malformed_json`.
 */
function forbiddenMembers(text: string): AppError | undefined {
  if (text.length > LOCATE_MEMBERS_BYTES) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const errors = findInJson(parsed, {
    member: (name, value) =>
      name === '__proto__' || (name === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype'))
        ? `member name "${name}" is not accepted in a JSON body (it could reach an object's prototype)`
        : undefined,
  });
  return errors.length > 0 ? validationFailed(errors, 'The JSON body has a member that is not accepted: __proto__, or constructor holding prototype.') : undefined;
}

const tooDeep = () =>
  new AppError(400, 'validation_failed', 'Validation failed', {
    detail: `The JSON body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`,
    errors: [{ path: '/', message: `nests deeper than ${MAX_JSON_DEPTH} levels`, in: 'body' }],
  });

const tooManyContainers = () =>
  new AppError(400, 'validation_failed', 'Validation failed', {
    detail: `The JSON body holds more than ${MAX_JSON_CONTAINERS} arrays and objects.`,
    errors: [{ path: '/', message: `holds more than ${MAX_JSON_CONTAINERS} arrays and objects`, in: 'body' }],
  });

const notUtf8 = () =>
  new AppError(400, 'validation_failed', 'Validation failed', {
    detail: 'The JSON body is not valid UTF-8: send text encoded as UTF-8 (RFC 8259 §8.1).',
    errors: [{ path: '/', message: 'is not valid UTF-8', in: 'body' }],
  });

function badTextError(errors: FieldError[], where: 'body' | 'query string' | 'path'): AppError {
  return validationFailed(errors, `The request ${where} has text that cannot be stored (NUL characters or invalid Unicode).`);
}

const NO_KEYS: ReadonlySet<string> = new Set();
/** Each querystring schema's parameter names, worked out the first time a request of its route has a query. */
const declaredBySchema = new WeakMap<object, ReadonlySet<string>>();

/** The query parameter names a route declares, from its zod querystring schema (none when it has none). */
function declaredQueryKeys(request: FastifyRequest): ReadonlySet<string> {
  const schema = request.routeOptions.schema?.querystring;
  if (!(schema instanceof z.ZodObject)) return NO_KEYS;
  let keys = declaredBySchema.get(schema);
  if (!keys) declaredBySchema.set(schema, (keys = new Set(Object.keys(schema.shape))));
  return keys;
}

function hasKeys(source: object): boolean {
  for (const _ in source) return true;
  return false;
}

function checkStrings(source: unknown, location: 'query' | 'params'): FieldError[] {
  const errors: FieldError[] = [];
  if (source === null || typeof source !== 'object') return errors;
  for (const [key, raw] of Object.entries(source)) {
    for (const value of [key, ...(Array.isArray(raw) ? raw : [raw])]) {
      const reason = typeof value === 'string' ? badTextReason(value) : undefined;
      if (reason) {
        errors.push({ path: `/${pointerToken(key)}`, message: reason, in: location });
        break;
      }
    }
  }
  return errors;
}

/**
 * One guard for input the record schemas cannot be trusted to catch (DESIGN §5, "hostile input"):
 * - JSON bodies: bytes that are not UTF-8 are refused (decoding would turn them into U+FFFD: a different
 *   name, stored without a word); nesting deeper than MAX_JSON_DEPTH, or more than MAX_JSON_CONTAINERS
 *   arrays and objects, is refused before parsing; after
 *   parsing, every string and member name holding a NUL or a lone surrogate is refused with its JSON
 *   Pointer. PostgreSQL text cannot hold NUL, and it stores a lone surrogate as U+FFFD, so such a value
 *   would answer 500 or change at every re-sync.
 * - Query strings and path parameters: the same text check, and unknown query parameters are refused
 *   with their names (a misspelt filter must not silently return everything).
 */
export const hostileInputPlugin = fp(
  async (app: FastifyInstance) => {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    const guardedJson = (request: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) => {
      if (!isUtf8(body)) return done(notUtf8());
      const text = body.toString('utf8');
      const excess = shapeExcess(text, MAX_JSON_DEPTH);
      if (excess) return done(excess === 'depth' ? tooDeep() : tooManyContainers());
      parseJson(request, text, (err, parsed) => {
        if (err) return done(forbiddenMembers(text) ?? err);
        // Text that is UTF-8 holds no lone surrogate, and JSON allows no raw control character in a string:
        // a NUL or a lone surrogate can only be spelled as a `\u` escape. Without one, nothing is walked.
        const bad = text.includes('\\u') ? findBadText(parsed) : [];
        if (bad.length > 0) return done(badTextError(bad, 'body'));
        done(null, parsed);
      });
    };
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, guardedJson);
    app.addContentTypeParser('application/merge-patch+json', { parseAs: 'buffer' }, guardedJson);

    app.addHook('preValidation', (request, _reply, done) => {
      try {
        checkPathAndQuery(request);
        done();
      } catch (err) {
        done(err as Error);
      }
    });
  },
  { name: 'hostile-input', dependencies: ['problem'] },
);

/** Throws when a path parameter or a query value holds text that cannot be stored, or a query parameter is unknown. */
function checkPathAndQuery(request: FastifyRequest): void {
  const params = checkStrings(request.params, 'params');
  if (params.length > 0) throw badTextError(params, 'path');
  const query = (request.query ?? {}) as Record<string, unknown>;
  // Most requests have no query string: nothing more to look at.
  if (!hasKeys(query)) return;
  const declared = declaredQueryKeys(request);
  const unknown = Object.keys(query).filter((key) => !declared.has(key));
  if (unknown.length > 0) {
    const accepted = declared.size > 0 ? `this operation accepts: ${[...declared].join(', ')}` : 'this operation takes no query parameters';
    // Reported like bad body values: at most MAX_REPORTED, so 1000 unknown names do not answer 250 KB.
    const named = unknown.length > 10 ? `${unknown.slice(0, 10).join(', ')}, … (${unknown.length} in all)` : unknown.join(', ');
    throw validationFailed(
      unknown
        .slice(0, MAX_REPORTED)
        .map((key) => ({ path: `/${pointerToken(key)}`, message: `unknown query parameter "${key}"; ${accepted}`, in: 'query' })),
      `Unknown query parameter${unknown.length > 1 ? 's' : ''}: ${named}.`,
    );
  }
  const text = [...undecodable(request.url), ...checkStrings(query, 'query')];
  if (text.length > 0) throw badTextError(text, 'query string');
}

/**
 * Query parameters whose percent-encoding is not UTF-8 (`%FF`, an encoded lone surrogate, a stray `%`): the
 * query parser keeps such text as it came, so `namePrefix=%FF` searched for the three characters `%FF` —
 * an empty page where a path with the same bytes is refused. Named by their parameter.
 */
function undecodable(url: string): FieldError[] {
  const start = url.indexOf('?');
  if (start < 0 || !url.includes('%', start)) return [];
  const errors: FieldError[] = [];
  for (const pair of url.slice(start + 1).split('&')) {
    if (!pair.includes('%')) continue;
    const eq = pair.indexOf('=');
    const [name, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    let key = name;
    try {
      key = decodeURIComponent(name.replace(/\+/g, ' '));
      decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      errors.push({ path: `/${pointerToken(key)}`, message: 'is not valid percent-encoded UTF-8', in: 'query' });
    }
  }
  return errors;
}
