import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { queryRows } from '../db/client.js';
import { z } from 'zod';
import { orgUnits } from '../db/schema/index.js';
import { checkCreditCode } from '../domain/credit-code.js';
import { covers } from '../domain/region.js';
import { ruleViolation } from '../errors.js';
import { defineCollection, type ResolvedRef } from '../records/definition.js';

/** Serialises re-parenting of org units (any constant; one per purpose). */
const HIERARCHY_LOCK = 4_101_000_002;

export const ORG_UNIT_LEVELS = ['province', 'city', 'county', 'street'] as const;

const fields = z.object({
  name: z.string().trim().min(1).max(200).describe('Name 机构名称, e.g. 郑州市城市管理综合执法支队'),
  level: z
    .enum(ORG_UNIT_LEVELS)
    .describe('Level 层级: province 省级; city 市级; county 县级 (含区); street 乡镇/街道'),
  unifiedSocialCreditCode: z
    .string()
    .trim()
    .toUpperCase()
    .superRefine((value, ctx) => {
      const check = checkCreditCode(value);
      if (!check.ok) ctx.addIssue({ code: 'custom', message: check.message });
    })
    .optional()
    .describe('Unified social credit code 统一社会信用代码 (GB 32100, check character verified)'),
});

/** 执法机构: the organisation tree every other record hangs from. */
export const orgUnitsCollection = defineCollection({
  name: 'org-units',
  singular: 'OrgUnit',
  plural: 'OrgUnits',
  tag: 'org-units',
  description: 'Enforcement organisation unit 执法机构',
  table: orgUnits,
  fields,
  refs: [
    {
      field: 'parentId',
      externalField: 'parentExternalId',
      target: 'org-units',
      required: false,
      // The rule below reads the parent's region: held FOR SHARE, the parent cannot move before this commits
      // (and a move of the parent, checking its children, cannot miss a child written meanwhile).
      lock: 'share',
      description: 'Parent unit 上级机构 (in a region covering this one)',
    },
  ],
  filters: {
    query: {
      level: z.enum(ORG_UNIT_LEVELS).optional().describe('Only units of this level'),
      parentId: z.uuid().optional().describe('Only direct children of this unit'),
    },
    where: (query) => [
      typeof query['level'] === 'string' ? eq(orgUnits.level, query['level']) : undefined,
      typeof query['parentId'] === 'string' ? eq(orgUnits.parentId, query['parentId']) : undefined,
    ],
  },
  rules(candidate, ctx) {
    const parent = ctx.refs.get('parentId') as ResolvedRef | null | undefined;
    if (!parent) return;
    if (parent.id === candidate.id) throw ruleViolation('/parentId', 'A unit cannot be its own parent.');
    if (!covers(parent.regionCode, candidate.regionCode)) {
      throw ruleViolation(
        '/parentId',
        `The parent unit is in region ${parent.regionCode}, which does not cover ${candidate.regionCode}; pick a parent in a covering region.`,
      );
    }
  },
  checks: [
    {
      // The rule above seen from the parent: a unit moved to another region must still cover every live
      // child. A move is a write by id, a run of its own, so no unit of the same run can be its child.
      // Between transactions it rests on the parent ref's `share` lock: every write of a unit that
      // keeps or takes a parent holds that parent FOR SHARE, and the move holds the unit FOR NO KEY UPDATE
      // before this check reads, so a child written concurrently either commits first (and is read here)
      // or waits and then sees the moved parent. The children need no lock of their own (locking them too
      // would take the two rows in the opposite order of a child's write, and deadlock).
      name: 'children-stay-covered',
      async check(subjects, { tx, principal }) {
        const moving = subjects.filter((s) => s.candidate.id && s.previous && s.candidate.regionCode !== s.previous.regionCode);
        if (moving.length === 0) return;
        const stored = await tx
          .select({ id: orgUnits.id, parentId: orgUnits.parentId, regionCode: orgUnits.regionCode, externalId: orgUnits.externalId })
          .from(orgUnits)
          .where(and(inArray(orgUnits.parentId, moving.map((s) => s.candidate.id!)), isNull(orgUnits.deletedAt)));
        for (const s of moving) {
          const region = s.candidate.regionCode;
          const stranded = stored.filter((c) => c.parentId === s.candidate.id && !covers(region, c.regionCode));
          if (stranded.length === 0) continue;
          // A child is named only when it lies in the caller's regions; of one elsewhere nothing is said.
          const shown = stranded.find((c) => covers(principal.region, c.regionCode));
          const which = shown
            ? `child unit ${shown.externalId ? `${shown.regionCode}/${shown.externalId}` : `${shown.id} in region ${shown.regionCode}`}, which ${region} does not cover`
            : `child units that ${region} does not cover`;
          s.fail('/regionCode', `The unit has ${which}; move or re-parent its children first, or pick a region covering them.`);
        }
      },
    },
    {
      // Only re-parenting an existing unit can close a cycle (a new unit has no descendants). Such writes
      // take one transaction-scoped lock, so two concurrent re-parentings cannot each miss the other's
      // half of a cycle; the walk up is one recursive query of any depth for the whole run.
      name: 'no-cycles',
      async check(subjects, { tx }) {
        const moving = subjects.filter((s) => s.candidate.id && s.candidate['parentId'] && s.candidate['parentId'] !== s.previous?.['parentId']);
        if (moving.length === 0) return;
        await tx.execute(sql`select pg_advisory_xact_lock(${HIERARCHY_LOCK})`);
        const pairs = JSON.stringify(moving.map((s) => ({ unit: s.candidate.id, parent: s.candidate['parentId'] })));
        const cyclic = await queryRows<{ unit: string }>(
          tx,
          sql`with recursive up(unit, id) as (
                select x.unit, x.parent from jsonb_to_recordset(${pairs}::jsonb) as x(unit uuid, parent uuid)
                union
                select up.unit, o.parent_id from up join ${orgUnits} o on o.id = up.id where o.parent_id is not null
              )
              select distinct unit from up where id = unit`,
        );
        const closing = new Set(cyclic.map((c) => c.unit));
        for (const s of moving) {
          if (closing.has(s.candidate.id!)) s.fail('/parentId', 'This parent would make the unit its own ancestor.');
        }
      },
    },
  ],
});
