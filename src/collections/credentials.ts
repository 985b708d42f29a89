import { and, between, eq, gte, inArray, isNull, lt, lte, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { credentials } from '../db/schema/index.js';
import { addDays } from '../domain/dates.js';
import { covers } from '../domain/region.js';
import { ruleViolation } from '../errors.js';
import { defineCollection } from '../records/definition.js';
import { CalendarDate, queryInteger } from '../records/schemas.js';

export const CREDENTIAL_KINDS = ['enforcement', 'supervision'] as const;
export const CREDENTIAL_STATUSES = ['valid', 'suspended', 'revoked', 'lost'] as const;
export const EFFECTIVE_STATUSES = [...CREDENTIAL_STATUSES, 'expired'] as const;
export type CredentialStatus = (typeof CREDENTIAL_STATUSES)[number];
export type EffectiveStatus = (typeof EFFECTIVE_STATUSES)[number];

const KIND_DESCRIPTION = 'Kind 证件种类: enforcement 河南省行政执法证; supervision 河南省行政执法监督证 (省政府令第180号 art. 3)';
const STATUS_DESCRIPTION = 'Status 证件状态: valid 有效; suspended 暂扣; revoked 吊销/注销; lost 遗失';

export const CredentialKind = z.enum(CREDENTIAL_KINDS).describe(KIND_DESCRIPTION);
export const EffectiveStatusSchema = z
  .enum(EFFECTIVE_STATUSES)
  .describe(`${STATUS_DESCRIPTION}; expired 已过期 — status valid but expiresOn is before today (Asia/Shanghai)`)
  .meta({ id: 'CredentialEffectiveStatus' });

/** The status as of `today`: a valid credential past its expiry date is `expired`. */
export function effectiveStatusOf(status: string, expiresOn: string, today: string): EffectiveStatus {
  return status === 'valid' && expiresOn < today ? 'expired' : (status as CredentialStatus);
}

/** SQL for "this credential row is a valid enforcement credential on `day`" (持证): issued, not expired, status valid. */
export function validEnforcementCredentialOn(day: string): SQL {
  const conditions = [
    isNull(credentials.deletedAt),
    eq(credentials.kind, 'enforcement'),
    eq(credentials.status, 'valid'),
    lte(credentials.issuedOn, day),
    gte(credentials.expiresOn, day),
  ];
  return sql`(${sql.join(conditions, sql` and `)})`;
}

function effectiveStatusCondition(wanted: string, today: string): SQL | undefined {
  if (wanted === 'expired') return and(eq(credentials.status, 'valid'), lt(credentials.expiresOn, today));
  if (wanted === 'valid') return and(eq(credentials.status, 'valid'), gte(credentials.expiresOn, today));
  return eq(credentials.status, wanted);
}

const ONE_VALID_MESSAGE =
  'Only one valid credential of a kind per officer at a time (validity periods may not overlap); set the old one to revoked or lost first, or issue the new one after it expires.';

const fields = z.object({
  credentialNumber: z
    .string()
    .trim()
    .min(1)
    .max(40)
    .describe('Credential number 证件编号; unique among live credentials'),
  kind: CredentialKind,
  issuingAuthority: z.string().trim().min(1).max(200).describe('Issuing authority 发证机关, e.g. 河南省人民政府'),
  issuedOn: CalendarDate.describe('Issued on 发证日期 (YYYY-MM-DD)'),
  expiresOn: CalendarDate.describe('Expires on 有效期至 (YYYY-MM-DD, the last valid day); after issuedOn'),
  status: z.enum(CREDENTIAL_STATUSES).describe(STATUS_DESCRIPTION),
});

/** 执法证件: the credentials an officer holds (河南省行政执法证件管理办法, 省政府令第180号). */
export const credentialsCollection = defineCollection({
  name: 'credentials',
  singular: 'Credential',
  plural: 'Credentials',
  tag: 'credentials',
  description: 'Enforcement credential 执法证件 (河南省行政执法证 / 行政执法监督证)',
  table: credentials,
  fields,
  refs: [
    {
      field: 'officerId',
      externalField: 'officerExternalId',
      target: 'officers',
      required: true,
      description: 'Holder 持证人 (an officer)',
      // The staffing-type rule reads the officer's fields.
      lock: 'share',
    },
  ],
  filters: {
    query: {
      officerId: z.uuid().optional().describe("Only this officer's credentials"),
      kind: CredentialKind.optional().describe('Only credentials of this kind'),
      status: z.enum(CREDENTIAL_STATUSES).optional().describe('Only credentials with this stored status'),
      effectiveStatus: z
        .enum(EFFECTIVE_STATUSES)
        .optional()
        .describe('Only credentials with this status as of today (expired: valid but past expiresOn)'),
      expiringWithinDays: queryInteger(0, 3650)
        .optional()
        .describe('Only valid credentials whose expiresOn falls between today and today + N days'),
    },
    where: (query, { today }) => {
      const within = query['expiringWithinDays'];
      return [
        typeof query['officerId'] === 'string' ? eq(credentials.officerId, query['officerId']) : undefined,
        typeof query['kind'] === 'string' ? eq(credentials.kind, query['kind']) : undefined,
        typeof query['status'] === 'string' ? eq(credentials.status, query['status']) : undefined,
        typeof query['effectiveStatus'] === 'string' ? effectiveStatusCondition(query['effectiveStatus'], today) : undefined,
        typeof within === 'number'
          ? and(eq(credentials.status, 'valid'), between(credentials.expiresOn, today, addDays(today, within)))
          : undefined,
      ];
    },
  },
  computed: {
    shape: { effectiveStatus: EffectiveStatusSchema },
    reads: ['status', 'expiresOn'],
    compute(records, { today }) {
      for (const record of records) {
        record['effectiveStatus'] = effectiveStatusOf(String(record['status']), String(record['expiresOn']), today);
      }
    },
  },
  unique: [
    {
      key: (candidate) => candidate.credentialNumber,
      column: credentials.credentialNumber,
      constraint: 'credentials_number_key',
      path: '/credentialNumber',
      // The holder is given only when it lies in the caller's regions; otherwise nothing of it is said.
      message: (holder, candidate) =>
        holder
          ? `Credential number ${String(candidate.credentialNumber)} is already recorded on credential ${holder.externalId ?? holder.id} in region ${holder.regionCode}; each number is issued once. Update that record instead.`
          : `Credential number ${String(candidate.credentialNumber)} cannot be recorded: each number is issued once and this one is taken. Check the number with the issuing authority.`,
    },
  ],
  constraints: {
    credentials_one_valid_per_kind: { status: 422, path: '/status', message: ONE_VALID_MESSAGE },
  },
  rules(candidate, ctx) {
    const { kind, status, issuedOn, expiresOn } = candidate;
    if (String(expiresOn) <= String(issuedOn)) {
      throw ruleViolation('/expiresOn', `expiresOn ${expiresOn} must be after issuedOn ${issuedOn}.`);
    }
    const officer = ctx.refs.get('officerId');
    if (!officer || Array.isArray(officer)) return; // required: the engine has already refused a missing holder
    // 省政府令第180号: 劳动合同工、临时工 may not apply for a 行政执法证. Revoked or lost ones may still be recorded.
    // The officer row is held FOR SHARE (ref lock), so its staffing type cannot change before commit.
    if (kind === 'enforcement' && (status === 'valid' || status === 'suspended') && officer.row['staffingType'] === 'contract') {
      throw ruleViolation(
        '/kind',
        'The officer is contract staff (staffingType contract); contract and temporary staff cannot hold an enforcement credential (河南省行政执法证件管理办法, 省政府令第180号).',
      );
    }
  },
  checks: [
    {
      // One valid credential of a kind per officer over its validity period: two valid credentials of the
      // same officer and kind may not overlap. The exclusion constraint credentials_one_valid_per_kind holds
      // it between transactions; this check words the refusal and catches overlaps within one request.
      name: 'one-valid-credential-per-kind',
      async check(subjects, { tx, principal }) {
        const valid = subjects.filter((s) => s.candidate.status === 'valid');
        if (valid.length === 0) return;
        const stored = await tx
          .select({
            id: credentials.id,
            officerId: credentials.officerId,
            kind: credentials.kind,
            credentialNumber: credentials.credentialNumber,
            regionCode: credentials.regionCode,
            issuedOn: credentials.issuedOn,
            expiresOn: credentials.expiresOn,
          })
          .from(credentials)
          .where(
            and(
              inArray(credentials.officerId, [...new Set(valid.map((s) => String(s.candidate.officerId)))]),
              eq(credentials.status, 'valid'),
              isNull(credentials.deletedAt),
            ),
          );
        const rewritten = new Set(subjects.map((s) => s.candidate.id).filter(Boolean));
        const accepted: { officerId: string; kind: string; issuedOn: string; expiresOn: string }[] = [];
        for (const s of valid) {
          const mine = { officerId: String(s.candidate.officerId), kind: String(s.candidate.kind), issuedOn: String(s.candidate.issuedOn), expiresOn: String(s.candidate.expiresOn) };
          const overlaps = (other: typeof mine) =>
            other.officerId === mine.officerId && other.kind === mine.kind && other.issuedOn <= mine.expiresOn && mine.issuedOn <= other.expiresOn;
          const holder = stored.find((c) => c.id !== s.candidate.id && !rewritten.has(c.id) && overlaps(c));
          if (holder) {
            const named = covers(principal.region, holder.regionCode) ? ` ${holder.credentialNumber}` : '';
            s.fail('/status', `The officer already holds valid ${holder.kind} credential${named} (${holder.issuedOn} to ${holder.expiresOn}), whose period overlaps this one. ${ONE_VALID_MESSAGE}`);
          } else if (accepted.some(overlaps)) {
            s.fail('/status', `An earlier record in this request is a valid ${mine.kind} credential of the same officer for an overlapping period. ${ONE_VALID_MESSAGE}`);
          } else {
            accepted.push(mine);
          }
        }
      },
    },
  ],
});
