/**
 * Small typed factories and HTTP helpers shared by the integration tests. Every factory returns a plain
 * request body; tests isolate themselves by region code and external id, so callers pass both.
 */
import type { LightMyRequestResponse } from 'fastify';
import type { App } from '../../src/app.js';
import { makeCreditCode } from '../../src/domain/credit-code.js';

export type OrgUnitLevel = 'province' | 'city' | 'county' | 'street';

export type OrgUnitBody = {
  regionCode?: string;
  externalId?: string | null;
  name?: string;
  level?: OrgUnitLevel;
  unifiedSocialCreditCode?: string | null;
  parentId?: string | null;
  parentExternalId?: string | null;
};

/** An org unit body with sensible defaults (a county-level unit named after its region). */
export function anOrgUnit(overrides: OrgUnitBody & { regionCode: string }): OrgUnitBody & { regionCode: string; name: string; level: OrgUnitLevel } {
  return { name: `执法大队 ${overrides.regionCode}`, level: 'county', ...overrides };
}

/** A unified social credit code that passes GB 32100 (distinct per serial). */
export function aCreditCode(regionCode: string, serial: number): string {
  return makeCreditCode({ regionCode, serial });
}

/** The minimal shape every record response has (DESIGN §3). */
export interface RecordJson {
  id: string;
  externalId: string | null;
  regionCode: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  [field: string]: unknown;
}

export interface ChangeJson {
  seq: number;
  collection: string;
  id: string;
  externalId: string | null;
  regionCode: string;
  op: 'upsert' | 'delete';
  version: number;
  changedAt: string;
  record: Record<string, unknown> | null;
  movedOut?: boolean;
}

export interface AuditJson {
  id: number;
  at: string;
  sub: string;
  clientId: string | null;
  callerRegion: string;
  requestId: string | null;
  collection: string;
  recordId: string | null;
  regionCode: string;
  op: 'create' | 'update' | 'delete' | 'read_pii' | 'identity_conflict' | 'identity_rolled_back' | 'identity_throttled';
  version: number | null;
}

export type Headers = Record<string, string>;

/** PUT /v1/org-units/external/{region}/{key}; asserts nothing, returns the raw response. */
export function putOrgUnit(app: App, headers: Headers, regionCode: string, externalId: string, body: OrgUnitBody = {}) {
  return app.inject({
    method: 'PUT',
    url: `/v1/org-units/external/${regionCode}/${externalId}`,
    headers,
    payload: { name: `执法大队 ${externalId}`, level: 'county', ...body },
  });
}

/** Creates (or updates) an org unit by its key and returns the record; throws on a non-2xx answer. */
export async function givenOrgUnit(app: App, headers: Headers, regionCode: string, externalId: string, body: OrgUnitBody = {}) {
  const res = await putOrgUnit(app, headers, regionCode, externalId, body);
  if (res.statusCode >= 300) throw new Error(`upsert ${regionCode}/${externalId} answered ${res.statusCode}: ${res.body}`);
  return res.json<RecordJson>();
}

/** The feed position right now: follow `nextCursor` until a page comes back empty. */
export async function feedHead(app: App, headers: Headers): Promise<string> {
  const { cursor } = await drainFeed(app, headers);
  return cursor;
}

/** Reads the change feed from `after` until an empty page; returns every item and the last cursor. */
export async function drainFeed(
  app: App,
  headers: Headers,
  options: { after?: string; collections?: string; limit?: number } = {},
): Promise<{ items: ChangeJson[]; cursor: string }> {
  const items: ChangeJson[] = [];
  let cursor = options.after;
  for (;;) {
    const page = await readFeedPage(app, headers, { ...options, after: cursor });
    items.push(...page.items);
    cursor = page.nextCursor;
    if (page.items.length === 0) return { items, cursor };
  }
}

export async function readFeedPage(
  app: App,
  headers: Headers,
  options: { after?: string | undefined; collections?: string; limit?: number } = {},
): Promise<{ items: ChangeJson[]; nextCursor: string }> {
  const query = new URLSearchParams();
  if (options.after) query.set('after', options.after);
  if (options.collections) query.set('collections', options.collections);
  query.set('limit', String(options.limit ?? 1000));
  const res = await app.inject({ method: 'GET', url: `/v1/changes?${query}`, headers });
  if (res.statusCode !== 200) throw new Error(`GET /v1/changes answered ${res.statusCode}: ${res.body}`);
  return res.json();
}

/** Every audit entry matching `query`, newest first, following the cursor. */
export async function auditEntries(app: App, headers: Headers, query: Record<string, string>): Promise<AuditJson[]> {
  const out: AuditJson[] = [];
  let cursor: string | undefined;
  for (;;) {
    const params = new URLSearchParams({ ...query, limit: '500', ...(cursor ? { cursor } : {}) });
    const res = await app.inject({ method: 'GET', url: `/v1/audit?${params}`, headers });
    if (res.statusCode !== 200) throw new Error(`GET /v1/audit answered ${res.statusCode}: ${res.body}`);
    const page = res.json<{ items: AuditJson[]; nextCursor: string | null }>();
    out.push(...page.items);
    if (!page.nextCursor) return out;
    cursor = page.nextCursor;
  }
}

/** Asserts the RFC 9457 shape shared by every error answer and returns the parsed body. */
export function problemOf(res: LightMyRequestResponse): {
  type: string;
  title: string;
  status: number;
  code: string;
  requestId: string;
  detail?: string;
  errors?: { path: string; message: string; in?: string }[];
  [key: string]: unknown;
} {
  const contentType = String(res.headers['content-type'] ?? '');
  if (!contentType.startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got "${contentType}" (${res.statusCode}): ${res.body}`);
  }
  return res.json();
}

/** One entry of a POST /v1/batch answer. */
export interface BatchResultJson {
  index: number;
  status: number;
  id?: string;
  version?: number;
  error?: { code: string; status: number; errors?: { path: string }[]; requestId?: string };
}
