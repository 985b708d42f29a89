import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { orgUnits } from '../db/schema/index.js';
import { checkCreditCode } from '../domain/credit-code.js';
import { covers } from '../domain/region.js';
import { ruleViolation } from '../errors.js';
import { defineCollection, type ResolvedRef } from '../records/definition.js';

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
  async rules(candidate, ctx) {
    const parent = ctx.refs.get('parentId') as ResolvedRef | null | undefined;
    if (!parent) return;
    if (parent.id === candidate.id) throw ruleViolation('/parentId', 'A unit cannot be its own parent.');
    if (!covers(parent.regionCode, candidate.regionCode)) {
      throw ruleViolation(
        '/parentId',
        `The parent unit is in region ${parent.regionCode}, which does not cover ${candidate.regionCode}; pick a parent in a covering region.`,
      );
    }
    // Walk up from the parent: reaching this unit would close a cycle.
    if (candidate.id) {
      let cursor: string | null = parent.id;
      for (let depth = 0; cursor && depth < 10; depth++) {
        if (cursor === candidate.id) throw ruleViolation('/parentId', 'This parent would make the unit its own ancestor.');
        const [up]: { parentId: string | null }[] = await ctx.tx
          .select({ parentId: orgUnits.parentId })
          .from(orgUnits)
          .where(eq(orgUnits.id, cursor));
        cursor = up?.parentId ?? null;
      }
    }
  },
});
