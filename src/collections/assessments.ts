import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { assessments } from '../db/schema/index.js';
import { defineCollection } from '../records/definition.js';

export const ASSESSMENT_RESULTS = ['excellent', 'competent', 'basically_competent', 'incompetent'] as const;

/** A year (2026), a half year (2026-H1, 2026-H2) or a quarter (2026-Q1 … 2026-Q4). */
export const ASSESSMENT_PERIOD_PATTERN = /^(19|20)\d{2}(-H[12]|-Q[1-4])?$/;

const AssessmentResult = z
  .enum(ASSESSMENT_RESULTS)
  .describe('Result 考核等次: excellent 优秀; competent 称职/合格; basically_competent 基本称职/基本合格; incompetent 不称职/不合格');

const fields = z.object({
  period: z
    .string()
    .trim()
    .regex(ASSESSMENT_PERIOD_PATTERN, 'must be a year (2026), a half year (2026-H1) or a quarter (2026-Q3)')
    .describe('Period 考核周期: a year 2026 (年度), a half year 2026-H1 / 2026-H2 (半年) or a quarter 2026-Q1 … 2026-Q4 (季度)'),
  result: AssessmentResult,
  rewards: z.string().trim().min(1).max(500).describe('Rewards 奖励, e.g. 通报表扬').optional(),
  penalties: z.string().trim().min(1).max(500).describe('Penalties 惩处, e.g. 警告; 解聘 goes with status dismissed').optional(),
  note: z.string().trim().min(1).max(1000).describe('Note 备注').optional(),
});

/** 考核奖惩: the periodic assessment of an assistant, with its rewards and penalties (中发〔2015〕37号: 奖惩). */
export const assessmentsCollection = defineCollection({
  name: 'assessments',
  singular: 'Assessment',
  plural: 'Assessments',
  tag: 'assessments',
  description: "Assessment 考核奖惩 of an assistant for a period",
  table: assessments,
  fields,
  refs: [
    { field: 'assistantId', externalField: 'assistantExternalId', target: 'assistants', required: true, description: 'Assistant 协管人员' },
  ],
  filters: {
    query: {
      assistantId: z.uuid().optional().describe("Only this assistant's assessments"),
      period: z.string().regex(ASSESSMENT_PERIOD_PATTERN).optional().describe('Only this period'),
      result: AssessmentResult.optional().describe('Only this result'),
    },
    where: (query) => [
      typeof query['assistantId'] === 'string' ? eq(assessments.assistantId, query['assistantId']) : undefined,
      typeof query['period'] === 'string' ? eq(assessments.period, query['period']) : undefined,
      typeof query['result'] === 'string' ? eq(assessments.result, query['result']) : undefined,
    ],
  },
  unique: [
    {
      // Backed by the partial unique index assessments_assistant_period_key.
      key: (candidate) => `${String(candidate['assistantId'])}|${String(candidate['period'])}`,
      column: sql`${assessments.assistantId}::text || '|' || ${assessments.period}`,
      constraint: 'assessments_assistant_period_key',
      path: '/period',
      message: (holder, candidate) =>
        holder
          ? `The assistant already has an assessment for ${String(candidate['period'])}; one per period. Update that record instead.`
          : `An earlier record in this batch assesses the same assistant for ${String(candidate['period'])}; one per period.`,
    },
  ],
});
