import { and, eq, inArray, isNull, like, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { credentials, officers, postStatuses } from '../db/schema/index.js';
import {
  describeCodes,
  EDUCATION,
  EDUCATION_CODES,
  ETHNICITY,
  ETHNICITY_CODES,
  POLITICAL_STATUS,
  POLITICAL_STATUS_CODES,
} from '../domain/code-tables.js';
import { covers } from '../domain/region.js';
import { missingScope } from '../errors.js';
import { defineCollection, type SourceParams } from '../records/definition.js';
import { coveredBy } from '../records/region-scope.js';
import { aliased, fromAs, qualified } from '../records/store.js';
import { CalendarDate } from '../records/schemas.js';
import {
  CREDENTIAL_STATUSES,
  CredentialKind,
  EffectiveStatusSchema,
  validEnforcementCredentialOn,
} from './credentials.js';
import { HeldEquipment, heldEquipmentDependencies, heldEquipmentRegions, heldEquipmentSource } from './held-equipment.js';
import { activeIdCardNumberUnique, BirthDate, checkIdentity, Gender, IdCardNumber, PERSON_PII, Phone } from './people.js';
import { PostStatusCode } from './post-statuses.js';

export const CADRE_LEVELS = ['none', 'section', 'division_or_above'] as const;
export const STAFFING_TYPES = ['civil_servant', 'civil_servant_managed', 'public_institution', 'contract'] as const;
export const EMPLOYMENT_STATUSES = ['active', 'transferred', 'retired', 'resigned', 'dismissed'] as const;

const CadreLevel = z
  .enum(CADRE_LEVELS)
  .describe('Cadre level 干部级别: none 无; section 科级; division_or_above 处级及以上 (drives the provincial training rule)');
const StaffingType = z
  .enum(STAFFING_TYPES)
  .describe(
    'Staffing type 人员类别: civil_servant 公务员; civil_servant_managed 参照公务员法管理; public_institution 事业编制; contract 劳动合同工/临时工 (cannot hold an enforcement credential, 省政府令第180号)',
  );
const EmploymentStatus = z
  .enum(EMPLOYMENT_STATUSES)
  .describe('Employment status 在职状态: active 在职; transferred 调离; retired 退休; resigned 辞职; dismissed 辞退');

const fields = z.object({
  name: z.string().trim().min(1).max(50).describe('Name 姓名'),
  gender: Gender,
  idCardNumber: IdCardNumber,
  birthDate: BirthDate,
  // Optional fields are described before .optional(): the record schema shows the inner schema as nullable.
  ethnicity: z.enum(ETHNICITY).describe(`Ethnicity 民族 (GB/T 3304): ${describeCodes(ETHNICITY_CODES)}`).optional(),
  politicalStatus: z
    .enum(POLITICAL_STATUS)
    .describe(`Political status 政治面貌 (GB/T 4762): ${describeCodes(POLITICAL_STATUS_CODES)}`)
    .optional(),
  education: z.enum(EDUCATION).describe(`Education 学历 (GB/T 4658): ${describeCodes(EDUCATION_CODES)}`).optional(),
  phone: Phone.optional(),
  position: z.string().trim().min(1).max(100).describe('Position 职务, e.g. 中队长').optional(),
  rank: z.string().trim().min(1).max(100).describe('Rank 职级, e.g. 一级行政执法员').optional(),
  cadreLevel: CadreLevel,
  staffingType: StaffingType,
  hireDate: CalendarDate.describe('Hire date 入职日期 (YYYY-MM-DD)').optional(),
  employmentStatus: EmploymentStatus,
  badgeNumber: z
    .string()
    .trim()
    .regex(/^[0-9A-Z]{4,20}$/, 'must be 4–20 digits or uppercase letters')
    .describe('Badge number 胸号 (4–20 digits or uppercase letters)')
    .optional(),
});

const OfficerCredentialSummary = z
  .object({
    id: z.uuid(),
    credentialNumber: z.string().describe('Credential number 证件编号'),
    kind: CredentialKind,
    status: z.enum(CREDENTIAL_STATUSES).describe('Stored status'),
    effectiveStatus: EffectiveStatusSchema,
    expiresOn: CalendarDate.describe('Expires on 有效期至'),
  })
  .meta({ id: 'OfficerCredentialSummary' });

const CurrentPostStatus = z
  .object({
    id: z.uuid(),
    status: PostStatusCode,
    post: z.string().nullable().describe('Post 岗位'),
    gridCode: z.string().nullable().describe('Grid 网格'),
    effectiveFrom: CalendarDate.describe('Effective from 生效日期'),
  })
  .meta({ id: 'OfficerCurrentPostStatus' });

const OfficerSummary = z
  .object({
    holdsValidCredential: z
      .boolean()
      .describe(
        '持证: holds an enforcement credential in your regions with status valid and issuedOn ≤ today ≤ expiresOn (Asia/Shanghai)',
      ),
    credentials: z
      .array(OfficerCredentialSummary)
      .describe("The officer's live credentials in your regions, latest expiry first (credentials recorded elsewhere are not shown)"),
    currentPostStatus: CurrentPostStatus.nullable().describe(
      'Current post status 当前岗位状态: the latest with effectiveFrom on or before today (Asia/Shanghai); null when none',
    ),
    equipment: z.array(HeldEquipment).describe('Equipment the officer holds now (open allocations 装备配置)'),
  })
  .meta({ id: 'OfficerSummary', description: 'Read-only summary 概况, derived when the officer is read' });

/**
 * The officer's summary (`OfficerSummary`) as one JSON value, built by the database (a `computed` source):
 * the live credentials in the caller's regions, latest expiry first, with their status as of `today`; whether
 * one of them is a valid enforcement credential today; the current post status and the held equipment.
 * Built whole in SQL, it reaches a masked read as the text PostgreSQL wrote, which is sent as it is
 * (render.ts `RawJson`): parsing and writing the summaries again cost a page of 50 officers more than
 * the rest of putting it together.
 */
function summarySource(params: SourceParams): SQL {
  const { lo, hi, today } = params;
  const c = (col: PgColumn) => aliased('c', col);
  const C = credentials;
  const inScope = sql`${c(C.officerId)} = ${qualified(officers.id)} and ${c(C.deletedAt)} is null and ${c(C.regionCode)} between ${lo} and ${hi}`;
  // Objects made by row_to_json/array_to_json, which write compact JSON in the order of the columns
  // (json_build_object writes `"k" : v`).
  return sql`(select row_to_json(s) from (select
      coalesce((select bool_or(${c(C.kind)} = 'enforcement' and ${c(C.status)} = 'valid'
        and ${c(C.issuedOn)} <= ${today} and ${c(C.expiresOn)} >= ${today}) from ${fromAs(C, 'c')} where ${inScope}), false) as "holdsValidCredential",
      (select coalesce(array_to_json(array_agg(y order by y."expiresOn" desc, y.id)), '[]'::json)
        from (select ${c(C.id)} as id, ${c(C.credentialNumber)} as "credentialNumber", ${c(C.kind)} as kind, ${c(C.status)} as status,
            case when ${c(C.status)} = 'valid' and ${c(C.expiresOn)} < ${today} then 'expired' else ${c(C.status)} end as "effectiveStatus",
            ${c(C.expiresOn)} as "expiresOn"
          from ${fromAs(C, 'c')} where ${inScope}) as y) as credentials,
      ${currentPostStatusSource(params)} as "currentPostStatus",
      ${heldEquipmentSource('officer', officers.id, params)} as equipment) as s)`;
}

/**
 * The officer's post status in effect on `today` (the latest with effectiveFrom ≤ today; one per day, so
 * never a tie) within the caller's regions, as a JSON object or null.
 */
function currentPostStatusSource({ lo, hi, today }: SourceParams): SQL {
  const p = (col: PgColumn) => aliased('p', col);
  const P = postStatuses;
  return sql`(select row_to_json(x) from (select ${p(P.id)} as id, ${p(P.status)} as status, ${p(P.post)} as post, ${p(P.gridCode)} as "gridCode",
      ${p(P.effectiveFrom)} as "effectiveFrom"
    from ${fromAs(P, 'p')}
    where ${p(P.officerId)} = ${qualified(officers.id)} and ${p(P.effectiveFrom)} <= ${today} and ${p(P.deletedAt)} is null
      and ${p(P.regionCode)} between ${lo} and ${hi}
    order by ${p(P.effectiveFrom)} desc limit 1) as x)`;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** 执法人员. */
export const officersCollection = defineCollection({
  name: 'officers',
  singular: 'Officer',
  plural: 'Officers',
  tag: 'officers',
  description: 'Law-enforcement officer 执法人员',
  table: officers,
  fields,
  refs: [
    {
      field: 'orgUnitId',
      externalField: 'orgUnitExternalId',
      target: 'org-units',
      required: true,
      description: 'Organisation unit 所属执法机构',
    },
  ],
  pii: PERSON_PII,
  filters: {
    query: {
      orgUnitId: z.uuid().optional().describe('Only officers of this unit'),
      employmentStatus: EmploymentStatus.optional().describe('Only officers with this employment status'),
      staffingType: StaffingType.optional().describe('Only officers of this staffing type'),
      holdsValidCredential: z
        .enum(['true', 'false'])
        .transform((value) => value === 'true')
        .optional()
        .describe('true: only officers holding a valid enforcement credential today; false: only those without'),
      namePrefix: z.string().trim().min(1).max(50).optional().describe('Only officers whose name starts with this'),
      idCardNumber: z
        .string()
        .trim()
        .min(1)
        .max(18)
        .optional()
        .describe('Only the officers with exactly this ID number (needs the pii:read scope; the look-up is audited like any unmasked read)'),
    },
    where(query, { blindIndex, principal, today }) {
      const { orgUnitId, employmentStatus, staffingType, holdsValidCredential, namePrefix, idCardNumber } = query;
      if (typeof idCardNumber === 'string' && !principal.scopes.has('pii:read')) throw missingScope('pii:read');
      // Counts only credentials in the caller's regions, like the summary: a filter is a view too.
      const holds = sql`exists (select 1 from ${credentials} where ${credentials.officerId} = ${officers.id} and ${validEnforcementCredentialOn(today)} and ${coveredBy(credentials.regionCode, principal.region)})`;
      return [
        typeof orgUnitId === 'string' ? eq(officers.orgUnitId, orgUnitId) : undefined,
        typeof employmentStatus === 'string' ? eq(officers.employmentStatus, employmentStatus) : undefined,
        typeof staffingType === 'string' ? eq(officers.staffingType, staffingType) : undefined,
        holdsValidCredential === true ? holds : holdsValidCredential === false ? sql`not ${holds}` : undefined,
        typeof namePrefix === 'string' ? like(officers.name, `${escapeLike(namePrefix)}%`) : undefined,
        typeof idCardNumber === 'string' ? eq(officers.idCardNumberHash, blindIndex(idCardNumber)) : undefined,
      ];
    },
  },
  computed: {
    shape: { summary: OfficerSummary },
    sources: (params) => ({ summary: summarySource(params) }),
    compute(records, { rows }) {
      records.forEach((record, i) => (record['summary'] = rows[i]!['summary']));
    },
    regions: () => {
      const live = (table: typeof credentials | typeof postStatuses) =>
        sql`select ${table.regionCode} from ${table} where ${table.officerId} = ${qualified(officers.id)} and ${table.deletedAt} is null`;
      return sql`${live(credentials)} union all ${live(postStatuses)} union all ${heldEquipmentRegions('officer', officers.id)}`;
    },
    dependsOn: {
      credentials: { owner: (credential) => credential['officerId'] },
      'post-statuses': { owner: (status) => status['officerId'] },
      ...heldEquipmentDependencies,
    },
  },
  unique: [activeIdCardNumberUnique({ isActive: (officer) => officer.employmentStatus === 'active' })],
  rules(candidate) {
    checkIdentity(candidate);
  },
  checks: [
    {
      // The other side of the credential rule: contract staff cannot hold an enforcement credential
      // (省政府令第180号). The credentials read are locked, and a credential being written for the officer
      // holds the officer row (FOR SHARE), so neither side can slip past the other.
      name: 'contract-staff-hold-no-enforcement-credential',
      async check(subjects, { tx, principal }) {
        const turning = subjects.filter((s) => s.candidate.staffingType === 'contract' && s.candidate.id && s.previous?.['staffingType'] !== 'contract');
        if (turning.length === 0) return;
        const held = await tx
          .select({ officerId: credentials.officerId, credentialNumber: credentials.credentialNumber, regionCode: credentials.regionCode })
          .from(credentials)
          .where(
            and(
              inArray(credentials.officerId, turning.map((s) => s.candidate.id!)),
              eq(credentials.kind, 'enforcement'),
              inArray(credentials.status, ['valid', 'suspended']),
              isNull(credentials.deletedAt),
            ),
          )
          .orderBy(credentials.id)
          .for('share');
        for (const s of turning) {
          const credential = held.find((c) => c.officerId === s.candidate.id);
          if (!credential) continue;
          const which = covers(principal.region, credential.regionCode) ? `enforcement credential ${credential.credentialNumber}` : 'an enforcement credential';
          s.fail(
            '/staffingType',
            `The officer holds ${which}; contract and temporary staff cannot hold one (河南省行政执法证件管理办法, 省政府令第180号). Revoke the credential first.`,
          );
        }
      },
    },
  ],
});
