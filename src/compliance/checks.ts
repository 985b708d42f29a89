import { and, asc, eq, gt, inArray, isNull, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { validEnforcementCredentialOn } from '../collections/credentials.js';
import type { Db } from '../db/client.js';
import { cases, credentials, officers } from '../db/schema/index.js';
import { DECISION_DAYS, decisionDeadline, PENDING_STAGES } from '../domain/cases.js';
import { addDays, daysBetween } from '../domain/dates.js';
import { validationFailed } from '../errors.js';
import { coveredBy } from '../records/region-scope.js';

/** One record that needs action: what is wrong, and the record to fix. */
export interface ComplianceRow {
  problem: string;
  collection: string;
  id: string;
  externalId: string | null;
  regionCode: string;
  href: string;
  facts: Record<string, string | number | null>;
}

export interface CheckContext {
  db: Db;
  region: string;
  today: string;
  limit: number;
  /** The sort key and id of the last row of the previous page. */
  after: { key: string; id: string } | undefined;
  query: Record<string, unknown>;
}

/**
 * A compliance list (DESIGN §7): its own query parameters and one keyset-paginated query over the caller's
 * regions. `on-duty-without-credential`, `training-overdue`, `assistants-over-quota` and
 * `equipment-below-quota` join as one more entry each once their records exist.
 */
export interface ComplianceCheck {
  name: string;
  summary: string;
  description: string;
  query: z.ZodRawShape;
  run(ctx: CheckContext): Promise<ComplianceRow[]>;
  /** The sort key of a row (what the keyset orders by before the id). */
  keyOf(row: ComplianceRow): string;
}

/** `(sortColumn, id) > (key, id)`: the keyset condition of the next page. */
function after(sortColumn: PgColumn, idColumn: PgColumn, cursor: CheckContext['after']): SQL | undefined {
  if (!cursor) return undefined;
  return or(gt(sortColumn, cursor.key), and(eq(sortColumn, cursor.key), gt(idColumn, cursor.id)));
}

const PENDING = [...PENDING_STAGES] as string[];
const FINAL = ['closed', 'terminated', 'transferred'];

const casesOverdue: ComplianceCheck = {
  name: 'cases-overdue',
  summary: 'Cases undecided after their 90-day deadline 超期未决案件',
  description: `Live cases still undecided (stage filed, investigating, legal_review or notified) more than ${DECISION_DAYS} days after filedOn (行政处罚法 第60条), as of today; oldest first. Fix: decide the case, or record its terminated/transferred stage.`,
  query: {},
  async run({ db, region, today, limit, after: cursor }) {
    const rows = await db
      .select({ id: cases.id, externalId: cases.externalId, regionCode: cases.regionCode, caseNumber: cases.caseNumber, filedOn: cases.filedOn, stage: cases.stage })
      .from(cases)
      .where(
        and(
          isNull(cases.deletedAt),
          inArray(cases.stage, PENDING),
          sql`${cases.filedOn} < ${addDays(today, -DECISION_DAYS)}::date`,
          coveredBy(cases.regionCode, region),
          after(cases.filedOn, cases.id, cursor),
        ),
      )
      .orderBy(asc(cases.filedOn), asc(cases.id))
      .limit(limit);
    return rows.map((c) => {
        const deadline = decisionDeadline(c.filedOn);
        const late = daysBetween(deadline, today);
        return {
          problem: `Case ${c.caseNumber} filed on ${c.filedOn} is still at stage ${c.stage}: the decision was due by ${deadline} (行政处罚法 第60条), ${late} days ago.`,
          collection: 'cases',
          id: c.id,
          externalId: c.externalId,
          regionCode: c.regionCode,
          href: `/v1/cases/${c.id}`,
          facts: { caseNumber: c.caseNumber, stage: c.stage, filedOn: c.filedOn, decisionDeadline: deadline, daysOverdue: late },
        };
      });
  },
  keyOf: (row) => String(row.facts['filedOn']),
};

const casesUnderstaffed: ComplianceCheck = {
  name: 'cases-understaffed',
  summary: 'Open cases without two qualified handlers 承办人不足两人',
  description:
    'Live cases not yet closed, terminated or transferred with fewer than two handling officers who are active and hold a valid enforcement credential today (行政处罚法 第42条) — a handler may have left or lost the credential since the case was filed. Fix: replace the handlers named in facts.unqualifiedHandlerIds.',
  query: {},
  async run({ db, region, today, limit, after: cursor }) {
    const qualified = sql`exists (select 1 from ${officers} where ${officers.id} = h.id and ${officers.deletedAt} is null and ${officers.employmentStatus} = 'active')
      and exists (select 1 from ${credentials} where ${credentials.officerId} = h.id and ${validEnforcementCredentialOn(today)})`;
    const unqualified = sql<string[]>`(select coalesce(array_agg(h.id order by h.ord), '{}') from unnest(${cases.handlingOfficerIds}) with ordinality as h(id, ord) where not (${qualified}))`;
    const fit = sql`(select count(distinct h.id) from unnest(${cases.handlingOfficerIds}) as h(id) where ${qualified})`;
    const rows = await db
      .select({ id: cases.id, externalId: cases.externalId, regionCode: cases.regionCode, caseNumber: cases.caseNumber, stage: cases.stage, unqualified })
      .from(cases)
      .where(and(isNull(cases.deletedAt), notInArray(cases.stage, FINAL), coveredBy(cases.regionCode, region), sql`${fit} < 2`, cursor ? gt(cases.id, cursor.id) : undefined))
      .orderBy(asc(cases.id))
      .limit(limit);
    return rows.map((c) => ({
        problem: `Case ${c.caseNumber} (stage ${c.stage}) has fewer than two handling officers who are active and hold a valid enforcement credential today; ${c.unqualified.length} of its handlers do not qualify (行政处罚法 第42条).`,
        collection: 'cases',
        id: c.id,
        externalId: c.externalId,
        regionCode: c.regionCode,
        href: `/v1/cases/${c.id}`,
        facts: { caseNumber: c.caseNumber, stage: c.stage, unqualifiedHandlerIds: c.unqualified.join(',') },
      }));
  },
  keyOf: () => '',
};

const credentialsExpiring: ComplianceCheck = {
  name: 'credentials-expiring',
  summary: 'Valid credentials expiring soon 证件即将到期',
  description: 'Live valid credentials whose expiresOn falls between today and today + days (Asia/Shanghai), soonest first. Fix: renew the credential (record the new one) before it expires.',
  query: { days: z.coerce.number().int().min(0).max(365).default(30).describe('Look-ahead in days (0–365, default 30)') },
  async run({ db, region, today, limit, after: cursor, query }) {
    const days = Number(query['days'] ?? 30);
    const rows = await db
      .select({
        id: credentials.id,
        externalId: credentials.externalId,
        regionCode: credentials.regionCode,
        credentialNumber: credentials.credentialNumber,
        kind: credentials.kind,
        expiresOn: credentials.expiresOn,
        officerId: credentials.officerId,
      })
      .from(credentials)
      .where(
        and(
          isNull(credentials.deletedAt),
          eq(credentials.status, 'valid'),
          sql`${credentials.expiresOn} between ${today}::date and ${addDays(today, days)}::date`,
          coveredBy(credentials.regionCode, region),
          after(credentials.expiresOn, credentials.id, cursor),
        ),
      )
      .orderBy(asc(credentials.expiresOn), asc(credentials.id))
      .limit(limit);
    return rows.map((c) => ({
        problem: `The ${c.kind} credential ${c.credentialNumber} expires on ${c.expiresOn}, in ${daysBetween(today, c.expiresOn)} days.`,
        collection: 'credentials',
        id: c.id,
        externalId: c.externalId,
        regionCode: c.regionCode,
        href: `/v1/credentials/${c.id}`,
        facts: { credentialNumber: c.credentialNumber, kind: c.kind, expiresOn: c.expiresOn, officerId: c.officerId, daysLeft: daysBetween(today, c.expiresOn) },
      }));
  },
  keyOf: (row) => String(row.facts['expiresOn']),
};

export const COMPLIANCE_CHECKS: readonly ComplianceCheck[] = [casesOverdue, casesUnderstaffed, credentialsExpiring];

export function encodeCursor(last: { key: string; id: string }): string {
  return Buffer.from(JSON.stringify(last)).toString('base64url');
}

export function decodeCursor(cursor: string): { key: string; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { key?: unknown; id?: unknown };
    if (typeof parsed.key === 'string' && parsed.key.length <= 10 && typeof parsed.id === 'string' && /^[0-9a-f-]{36}$/.test(parsed.id)) {
      return { key: parsed.key, id: parsed.id };
    }
  } catch {
    // fall through
  }
  throw validationFailed([{ path: '/cursor', message: 'is not a cursor this service issued', in: 'query' }]);
}
