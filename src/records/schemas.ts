import { z } from 'zod';

/** Shared API shapes, registered with ids so they become `components/schemas` in the OpenAPI document. */

export const RegionCode = z
  .string()
  .regex(/^\d{6}$/, 'must be a 6-digit GB/T 2260 region code')
  .describe('Region code 行政区划代码 (GB/T 2260), e.g. 410100 郑州市')
  .meta({ id: 'RegionCode', example: '410100' });

export const ExternalId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"')
  .describe("The source platform's own id 外部编号, unique per collection and region")
  .meta({ id: 'ExternalId', example: 'ZZ-ORG-001' });

export const Uuid = z.uuid().describe('Server-assigned id 记录编号 (UUID)');

/**
 * The years an ISO date or instant may name here: 0001–9999. An ISO check passes year 0000, which PostgreSQL
 * refuses (there is no year 0), and an instant past 9999 in UTC has no four-digit ISO form: either reached
 * the database as a refused value instead of a 400 naming the field.
 */
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
const YEARS = 'must lie in the years 0001–9999';

// The range is checked only on values of the right form: one that is not ISO gets the format's error alone.
export const CalendarDate = z.iso
  .date()
  .refine((value) => !/^0000-\d\d-\d\d$/.test(value), YEARS)
  .describe('Date 日期 (YYYY-MM-DD)');

/** An instant given by a client (RFC 3339 with an offset), within the years 0001–9999 in UTC. */
export const Instant = z.iso.datetime({ offset: true }).refine((value) => {
  const at = Date.parse(value);
  return !/^\d{4}-/.test(value) || Number.isNaN(at) || (at >= FIRST_INSTANT && at <= LAST_INSTANT);
}, YEARS);

export const FieldErrorSchema = z
  .object({
    path: z.string().describe('JSON Pointer to the bad field, inside the request part named by `in`'),
    message: z.string(),
    in: z.enum(['body', 'query', 'params', 'headers']).optional(),
  })
  .meta({ id: 'FieldError' });

export const Problem = z
  .looseObject({
    type: z.string().describe('A URI reference naming the problem type'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z
      .string()
      .describe(
        'Stable machine-readable code: validation_failed, malformed_json, bad_request, payload_too_large, unsupported_media_type, uri_too_long, headers_too_large, request_timeout, method_not_allowed, unauthorized, insufficient_scope, forbidden_region, not_found, conflict, version_conflict, rule_violation, reference_not_found, still_referenced, batch_rolled_back, too_many_identity_probes, rate_limited, overloaded, service_unavailable, retry, query_timeout, internal_error',
      ),
    requestId: z.string().optional(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .describe('RFC 9457 problem details')
  .meta({ id: 'Problem' });

/** Response headers as @fastify/swagger takes them: a JSON Schema per header, with its description. */
type ResponseHeaders = Record<string, { type: 'string' | 'integer'; description: string }>;

export const problemResponse = (description: string, headers?: ResponseHeaders) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: Problem } },
});

/** A 503 problem: the database is unreachable (service_unavailable) or too slow (query_timeout). */
export const unavailableResponse = (description: string) =>
  problemResponse(description, {
    'retry-after': { type: 'integer', description: 'Seconds to wait before retrying' },
  });

/** The error responses every protected route can give. */
export const commonProblems = {
  400: problemResponse('Invalid request (validation_failed, malformed_json)'),
  401: problemResponse('Missing, expired or invalid bearer token (unauthorized)', {
    'www-authenticate': { type: 'string', description: 'Bearer realm="officer-registry"' },
  }),
  403: problemResponse('Missing scope (insufficient_scope) or region not covered (forbidden_region)'),
  503: unavailableResponse('Database unavailable or too slow (service_unavailable, query_timeout); retry after Retry-After seconds'),
} as const;

/** 429 on writes setting ID numbers once this client has spent its budgets (identity-throttle.ts). */
export const identityProbesResponse = problemResponse(
  'This client has spent its budget of writes setting ID numbers — refused ones a minute, new numbers an hour (too_many_identity_probes); such writes are refused until Retry-After',
  { 'retry-after': { type: 'integer', description: 'Seconds until writes setting ID numbers are accepted again' } },
);

/**
 * A whole number in a query string, written in decimal digits. `z.coerce.number` would read `0x10` as 16, `1e2`
 * as 100, `1.0` as 1, ` 5` as 5 and an empty value as 0; here each is 400 at its parameter, so a mistyped
 * value is answered as one rather than with another page or another year. OpenAPI still shows an integer,
 * with its default (given here: on the outer schema the document would lose it).
 */
export function queryInteger(min: number, max: number, fallback?: number) {
  // The message of a value that is not one; a number out of range keeps zod's, which states the range.
  const inner = z
    .number({ error: (issue) => (issue.code === 'invalid_type' ? 'must be a whole number written in decimal digits' : undefined) })
    .int()
    .min(min)
    .max(max);
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?[0-9]{1,15}$/.test(value) ? Number(value) : value),
    fallback === undefined ? inner : inner.default(fallback),
  );
}

export const ListQueryBase = {
  limit: queryInteger(1, 500, 50).describe('Page size (1–500, default 50)'),
  cursor: z.string().max(200).optional().describe('Opaque cursor from the previous page’s nextCursor'),
};
