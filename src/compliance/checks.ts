import { and, asc, eq, gt, inArray, isNull, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { validEnforcementCredentialOn } from '../collections/credentials.js';
import { queryRows, type Db } from '../db/client.js';
import { cases, credentials, officers, postStatuses, trainings } from '../db/schema/index.js';
import { DECISION_DAYS, decisionDeadline, PENDING_STAGES } from '../domain/cases.js';
import { addDays, daysBetween } from '../domain/dates.js';
import { EQUIPMENT_CATEGORIES, type EquipmentCategory, type EquipmentQuotas } from '../domain/equipment-quotas.js';
import { validationFailed } from '../errors.js';
import { cursorText, UUID_TEXT } from '../http/cursor.js';
import { coverageRange, coveredBy } from '../records/region-scope.js';
import { CalendarDate, queryInteger } from '../records/schemas.js';
import { unitPeople, unitQuotaNeeds } from '../stats/org-unit-basis.js';
import { EQUIPMENT_LABELS, quotaInWords } from '../stats/sections/equipment.js';
import { initialTrainingMissing, PROVINCIAL_TRAINING_YEARS, provincialTrainingOverdue } from '../stats/sections/training.js';

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
  /** The equipment quota table in force. */
  quotas: EquipmentQuotas;
  region: string;
  today: string;
  limit: number;
  /** The sort key and id of the last row of the previous page. */
  after: { key: string; id: string } | undefined;
  query: Record<string, unknown>;
}

/** A compliance list (DESIGN §7): its own query parameters and a keyset-paginated query over the caller's regions. */
export interface ComplianceCheck {
  name: string;
  summary: string;
  description: string;
  query: z.ZodRawShape;
  run(ctx: CheckContext): Promise<ComplianceRow[]>;
  /** The sort key of a row (what the keyset orders by before the id). */
  keyOf(row: ComplianceRow): string;
  /** What that key is in this check's cursors: a cursor holding anything else was not issued by it. */
  cursorKey: z.ZodType<string>;
}

/** The key of a check ordered by id alone. */
const NO_KEY = z.literal('');

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
  cursorKey: CalendarDate,
};

const casesUnderstaffed: ComplianceCheck = {
  name: 'cases-understaffed',
  summary: 'Open cases without two qualified handlers 承办人不足两人',
  description:
    'Live cases not yet closed, terminated or transferred with fewer than two handling officers who are active and hold a valid enforcement credential today (行政处罚法 第42条) — a handler may have left or lost the credential since the case was filed. Fix: replace the handlers named in facts.unqualifiedHandlerIds.',
  query: {},
  async run({ db, region, today, limit, after: cursor }) {
    const qualified = sql`exists (select 1 from ${officers} where ${officers.id} = h.id and ${officers.deletedAt} is null and ${officers.employmentStatus} = 'active')
      and exists (select 1 from ${credentials} where ${credentials.officerId} = h.id and ${validEnforcementCredentialOn(today)} and ${coveredBy(credentials.regionCode, region)})`;
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
  cursorKey: NO_KEY,
};

const credentialsExpiring: ComplianceCheck = {
  name: 'credentials-expiring',
  summary: 'Valid credentials expiring soon 证件即将到期',
  description: 'Live valid credentials whose expiresOn falls between today and today + days (Asia/Shanghai), soonest first. Fix: renew the credential (record the new one) before it expires.',
  query: { days: queryInteger(0, 365, 30).describe('Look-ahead in days (0–365, default 30)') },
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
  cursorKey: CalendarDate,
};

const onDutyWithoutCredential: ComplianceCheck = {
  name: 'on-duty-without-credential',
  summary: 'Officers on duty without a valid enforcement credential 未持证上岗',
  description:
    "Live officers whose current post status (the latest with effectiveFrom on or before today) is on_duty and who hold no enforcement credential valid today (status valid, issuedOn ≤ today ≤ expiresOn) — 持证上岗: a credential expired or revoked after the status was recorded. Fix: record the officer's renewed credential, or a post status other than on_duty. facts name the post status and the latest enforcement credential.",
  query: {},
  async run({ db, region, today, limit, after: cursor }) {
    const [lo, hi] = coverageRange(region);
    const rows = await queryRows<{
      id: string;
      external_id: string | null;
      region_code: string;
      employment_status: string;
      post_status_id: string;
      on_duty_since: string;
      post: string | null;
      credential_number: string | null;
      credential_status: string | null;
      credential_expires_on: string | null;
    }>(
      db,
      sql`select ${officers.id} as id, ${officers.externalId} as external_id, ${officers.regionCode} as region_code,
                 ${officers.employmentStatus} as employment_status, ps.id as post_status_id, ps.effective_from::text as on_duty_since, ps.post,
                 c.credential_number, c.status as credential_status, c.expires_on::text as credential_expires_on
          from ${officers}
          cross join lateral (
            select ${postStatuses.id} as id, ${postStatuses.status} as status, ${postStatuses.effectiveFrom} as effective_from, ${postStatuses.post} as post
            from ${postStatuses}
            where ${postStatuses.officerId} = ${officers.id} and ${postStatuses.deletedAt} is null and ${postStatuses.effectiveFrom} <= ${today}::date
            order by ${postStatuses.effectiveFrom} desc limit 1) as ps
          left join lateral (
            select ${credentials.credentialNumber} as credential_number, ${credentials.status} as status, ${credentials.expiresOn} as expires_on
            from ${credentials}
            where ${credentials.officerId} = ${officers.id} and ${credentials.kind} = 'enforcement' and ${credentials.deletedAt} is null
            order by ${credentials.expiresOn} desc limit 1) as c on true
          where ${officers.deletedAt} is null and ${officers.regionCode} between ${lo} and ${hi} and ps.status = 'on_duty'
            and not exists (select 1 from ${credentials} where ${credentials.officerId} = ${officers.id} and ${validEnforcementCredentialOn(today)} and ${coveredBy(credentials.regionCode, region)})
            ${cursor ? sql`and ${officers.id} > ${cursor.id}` : sql``}
          order by ${officers.id}
          limit ${limit}`,
    );
    return rows.map((o) => {
      const credential = !o.credential_number
        ? 'no enforcement credential is on record'
        : o.credential_status !== 'valid'
          ? `the latest enforcement credential ${o.credential_number} is ${o.credential_status}`
          : o.credential_expires_on! < today
            ? `the latest enforcement credential ${o.credential_number} expired on ${o.credential_expires_on}`
            : `the latest enforcement credential ${o.credential_number} is not in force yet`;
      return {
        problem: `The officer has been on duty since ${o.on_duty_since} but ${credential} (持证上岗).`,
        collection: 'officers',
        id: o.id,
        externalId: o.external_id,
        regionCode: o.region_code,
        href: `/v1/officers/${o.id}`,
        facts: {
          postStatusId: o.post_status_id,
          onDutySince: o.on_duty_since,
          post: o.post,
          employmentStatus: o.employment_status,
          latestCredentialNumber: o.credential_number,
          latestCredentialStatus: o.credential_status,
          latestCredentialExpiresOn: o.credential_expires_on,
        },
      };
    });
  },
  keyOf: () => '',
  cursorKey: NO_KEY,
};

const TRAINING_CONDITIONS = ['initial', 'provincial'] as const;
type TrainingCondition = (typeof TRAINING_CONDITIONS)[number];

const trainingOverdue: ComplianceCheck = {
  name: 'training-overdue',
  summary: 'Officers missing a required training 培训未达标',
  description: `Live active officers who miss a required training, one row per condition (facts.condition): \`initial\` — no passed initial training 初任培训 ending on or before today; \`provincial\` — a division-level cadre (cadreLevel division_or_above 处级以上) without a passed provincial training 省级培训 ending in the ${PROVINCIAL_TRAINING_YEARS} years up to today. Trainings count wherever they were recorded. Rows of \`initial\` come first. Fix: record the training (with passed = true) once attended.`,
  query: {},
  async run({ db, region, today, limit, after: cursor }) {
    // Nested once: drizzle writes the columns at the top level of a single-table select's field without their
    // table, and a bare "id" inside this subquery would be the training's.
    const lastProvincial = sql<string | null>`${sql`(select max(${trainings.endedOn})::text from ${trainings} where ${trainings.personId} = ${officers.id}
      and ${trainings.personType} = 'officer' and ${trainings.kind} = 'provincial' and ${trainings.passed} and ${trainings.deletedAt} is null)`}`;
    const page = async (condition: TrainingCondition, afterId: string | undefined, n: number) =>
      (
        await db
          .select({
            id: officers.id,
            externalId: officers.externalId,
            regionCode: officers.regionCode,
            cadreLevel: officers.cadreLevel,
            hireDate: officers.hireDate,
            lastProvincial: condition === 'provincial' ? lastProvincial : sql<null>`null`,
          })
          .from(officers)
          .where(
            and(
              isNull(officers.deletedAt),
              eq(officers.employmentStatus, 'active'),
              coveredBy(officers.regionCode, region),
              condition === 'provincial'
                ? and(eq(officers.cadreLevel, 'division_or_above'), provincialTrainingOverdue(today))
                : initialTrainingMissing(today),
              afterId ? gt(officers.id, afterId) : undefined,
            ),
          )
          .orderBy(asc(officers.id))
          .limit(n)
      ).map((o) => ({ ...o, condition }));
    const rows =
      cursor?.key === 'provincial' ? [] : await page('initial', cursor?.key === 'initial' ? cursor.id : undefined, limit);
    if (rows.length < limit) rows.push(...(await page('provincial', cursor?.key === 'provincial' ? cursor.id : undefined, limit - rows.length)));
    return rows.map((o) => ({
      problem:
        o.condition === 'initial'
          ? `The active officer${o.hireDate ? ` (hired on ${o.hireDate})` : ''} has no passed initial training 初任培训 on record.`
          : `The division-level cadre 处级以上干部 has no passed provincial training 省级培训 in the ${PROVINCIAL_TRAINING_YEARS} years up to today; ${o.lastProvincial ? `the last one ended on ${o.lastProvincial}` : 'none is on record'}.`,
      collection: 'officers',
      id: o.id,
      externalId: o.externalId,
      regionCode: o.regionCode,
      href: `/v1/officers/${o.id}`,
      facts: { condition: o.condition, cadreLevel: o.cadreLevel, hireDate: o.hireDate, lastProvincialTrainingEndedOn: o.lastProvincial },
    }));
  },
  keyOf: (row) => String(row.facts['condition']),
  cursorKey: z.enum(TRAINING_CONDITIONS),
};

const assistantsOverQuota: ComplianceCheck = {
  name: 'assistants-over-quota',
  summary: 'Org units with more assistants than officers 协管人员超比例',
  description:
    'Live org units whose assistants in service (status probation or active, employed by the unit) outnumber its active officers — 中发〔2015〕37号: 协管人员数量不得超过在编执法人员. People are counted within the caller’s regions; regions over the ratio are flagged in the statistics (people.assistantRatioExceeded). Fix: reduce the unit’s assistants (dismiss, or move them to a unit with room) or staff it with officers.',
  query: {},
  async run({ db, region, limit, after: cursor }) {
    const [lo, hi] = coverageRange(region);
    const rows = (
      await queryRows<{ unit_id: string; external_id: string | null; region_code: string; name: string; assistants: number; active_officers: number }>(
        db,
        sql`select * from ${unitPeople(lo, hi)} as u
            where u.assistants > u.active_officers ${cursor ? sql`and u.unit_id > ${cursor.id}::uuid` : sql``}
            order by u.unit_id limit ${limit}`,
      )
    ).map((u) => ({ id: u.unit_id, externalId: u.external_id, regionCode: u.region_code, name: u.name, assistants: u.assistants, officers: u.active_officers }));
    return rows.map((u) => ({
      problem: `${u.name} has ${u.assistants} assistants in service and ${u.officers} active officers: ${u.assistants - u.officers} over the ratio of 1 (中发〔2015〕37号).`,
      collection: 'org-units',
      id: u.id,
      externalId: u.externalId,
      regionCode: u.regionCode,
      href: `/v1/org-units/${u.id}`,
      facts: { name: u.name, assistants: u.assistants, activeOfficers: u.officers, excess: u.assistants - u.officers },
    }));
  },
  keyOf: () => '',
  cursorKey: NO_KEY,
};

const equipmentBelowQuota: ComplianceCheck = {
  name: 'equipment-below-quota',
  summary: 'Org units short of an equipment quota 装备配备不足',
  description:
    'One row per live org unit (with active officers) and equipment category whose in-service items owned by the unit are fewer than the quota table requires (per officer on duty today, per org unit, or per started group of active officers; the table is the documented defaults or EQUIPMENT_QUOTAS_FILE). Ordered by category, then unit. Fix: equip the unit (record the items), or return items from maintenance to service.',
  query: {},
  async run({ db, region, today, limit, after: cursor, quotas }) {
    const [lo, hi] = coverageRange(region);
    const rows = await queryRows<{
      unit_id: string;
      external_id: string | null;
      region_code: string;
      name: string;
      active_officers: number;
      on_duty_officers: number;
      category: EquipmentCategory;
      required: number;
      held: number;
    }>(
      db,
      sql`select * from ${unitQuotaNeeds(quotas, lo, hi, today)} as need
          where need.required > need.held
            ${cursor ? sql`and (need.category, need.unit_id) > (${cursor.key}::text, ${cursor.id}::uuid)` : sql``}
          order by need.category, need.unit_id
          limit ${limit}`,
    );
    return rows.map((u) => {
      const rule = quotas[u.category]!;
      return {
        problem: `${u.name} holds ${u.held} ${u.category} ${EQUIPMENT_LABELS[u.category]} in service; the quota (${quotaInWords(rule)}) asks for ${u.required}: ${u.required - u.held} short.`,
        collection: 'org-units',
        id: u.unit_id,
        externalId: u.external_id,
        regionCode: u.region_code,
        href: `/v1/org-units/${u.unit_id}`,
        facts: {
          name: u.name,
          category: u.category,
          quota: quotaInWords(rule),
          required: u.required,
          held: u.held,
          shortfall: u.required - u.held,
          activeOfficers: u.active_officers,
          onDutyOfficers: u.on_duty_officers,
        },
      };
    });
  },
  keyOf: (row) => String(row.facts['category']),
  cursorKey: z.enum(EQUIPMENT_CATEGORIES),
};

export const COMPLIANCE_CHECKS: readonly ComplianceCheck[] = [
  casesOverdue,
  casesUnderstaffed,
  credentialsExpiring,
  onDutyWithoutCredential,
  trainingOverdue,
  assistantsOverQuota,
  equipmentBelowQuota,
];

export function encodeCursor(last: { key: string; id: string }): string {
  return Buffer.from(JSON.stringify(last)).toString('base64url');
}

/** The last row of the previous page, from a cursor `check` issued: its key as the check keys rows, and an id. */
export function decodeCursor(cursor: string, check: Pick<ComplianceCheck, 'cursorKey'>): { key: string; id: string } {
  try {
    const parsed = JSON.parse(cursorText(cursor) ?? '') as { key?: unknown; id?: unknown };
    const key = check.cursorKey.safeParse(parsed.key);
    if (key.success && typeof parsed.id === 'string' && UUID_TEXT.test(parsed.id)) return { key: key.data, id: parsed.id };
  } catch {
    // fall through
  }
  throw validationFailed([{ path: '/cursor', message: 'is not a cursor this service issued', in: 'query' }]);
}
