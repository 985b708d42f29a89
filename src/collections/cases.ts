import { and, arrayContains, eq, gte, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import { cases, caseNumberKey, credentials } from '../db/schema/index.js';
import {
  CASE_CATEGORIES,
  CASE_SOURCES,
  CASE_STAGES,
  CATEGORY_LABELS,
  DECISION_DAYS,
  decisionDeadline,
  heaviestPenalty,
  isOverdue,
  PENALTIES,
  PENALTY_LABELS,
  PENDING_STAGES,
  STAGE_LABELS,
  STAGE_NEXT,
  stageIndex,
} from '../domain/cases.js';
import { addDays } from '../domain/dates.js';
import { ruleViolation } from '../errors.js';
import { defineCollection, type ResolvedRef, type RuleSubject } from '../records/definition.js';
import { CalendarDate } from '../records/schemas.js';

const describeLabels = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([code, label]) => `${code} ${label}`)
    .join('; ');

export const CaseStage = z
  .enum(CASE_STAGES)
  .describe(
    `Stage 办案阶段: ${describeLabels(STAGE_LABELS)}. Moves only forward along filed → investigating → legal_review → notified → decided → executed → closed; a jump forward is allowed when the fields of the skipped stages are present; terminated and transferred only before the decision. A major case reaches decided only after legal_review (行政处罚法 第58条).`,
  );
const Category = z.enum(CASE_CATEGORIES).describe(`Category 案件类别: ${describeLabels(CATEGORY_LABELS)}`);
const Penalty = z.enum(PENALTIES).describe(`Penalty 处罚种类 (行政处罚法 第9条): ${describeLabels(PENALTY_LABELS)}`);
const Fen = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const fields = z.object({
  caseNumber: z.string().trim().min(1).max(64).describe('Case number 案号, e.g. 郑城管罚字〔2025〕第0123号; unique among live cases of a region'),
  title: z.string().trim().min(1).max(200).describe('Title 案由, e.g. 未经批准擅自占道经营'),
  category: Category,
  source: z
    .enum(CASE_SOURCES)
    .describe('Source 案件来源: patrol 巡查发现; complaint 投诉举报; assigned 交办; transferred_in 移送; non_site 非现场执法 (第41条); other 其他'),
  filedOn: CalendarDate.describe('Filed on 立案日期 (YYYY-MM-DD): starts the 90-day decision clock (行政处罚法 第60条); not in the future'),
  stage: CaseStage,
  major: z.boolean().describe('Major case 重大案件: needs 法制审核 (stage legal_review) before the decision (行政处罚法 第58条)'),
  decidedOn: CalendarDate.describe('Decided on 决定日期 (YYYY-MM-DD); required from stage decided on, not before filedOn').optional(),
  penalties: z
    .array(Penalty)
    .min(1)
    .max(PENALTIES.length)
    .refine((list) => new Set(list).size === list.length, 'must not repeat a penalty')
    .describe('Penalties 处罚种类 imposed by the decision, a set; required from stage decided on')
    .optional(),
  fineFen: Fen.describe('Fine 罚款金额 in fen 分; required (and > 0) when penalties has fine, refused without it').optional(),
  confiscationFen: Fen.describe(
    'Confiscated amount 没收金额 in fen 分: required when penalties has confiscation_of_gains (没收违法所得); optional with confiscation_of_property (没收非法财物) — leave it out when the value cannot be determined, and it is then not counted in 罚没金额',
  ).optional(),
  executedOn: CalendarDate.describe('Executed on 执行完毕日期 (YYYY-MM-DD); required from stage executed on, not before decidedOn').optional(),
  closedOn: CalendarDate.describe('Closed on 结案日期 (YYYY-MM-DD); required at stage closed, not before executedOn').optional(),
  transferredTo: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe('Transferred to 移送机关 (e.g. 公安机关, 司法机关); required at stage transferred')
    .optional(),
});

const StageHistoryEntry = z
  .object({
    stage: CaseStage,
    date: CalendarDate.describe('The day the server recorded the stage (Asia/Shanghai)'),
    by: z.string().describe('Who: the `sub` of the token that wrote it'),
  })
  .meta({ id: 'CaseStageHistoryEntry' });

const HANDLER_HINT =
  'Handling officers 承办人 must be officers (执法人员) holding an enforcement credential; an assistant (协管人员) can never handle a case, since assistants only assist with publicity, patrols, information collection and dissuasion and do no concrete enforcement (中发〔2015〕37号).';

const PENDING = PENDING_STAGES as readonly string[];
const DECIDED = stageIndex('decided');
const EXECUTED = stageIndex('executed');
const CLOSED = stageIndex('closed');

type Fields = z.infer<typeof fields>;

/** Whether a write has to check its handlers (第42条 applies at 立案): on create, and when the handlers or filedOn change. */
function handlersChanged(s: { candidate: Record<string, unknown>; previous: Record<string, unknown> | undefined }): boolean {
  const { candidate, previous } = s;
  if (!previous) return true;
  const before = [...((previous['handlingOfficerIds'] as string[] | null) ?? [])].sort().join(',');
  const after = [...((candidate['handlingOfficerIds'] as string[] | null) ?? [])].sort().join(',');
  return before !== after || previous['filedOn'] !== candidate['filedOn'];
}

function historyOf(previous: Record<string, unknown> | undefined): { stage: string; date: string; by: string }[] {
  const history = previous?.['stageHistory'];
  return Array.isArray(history) ? (history as { stage: string; date: string; by: string }[]) : [];
}

function handlerName(ref: ResolvedRef): string {
  return ref.externalId ? `${String(ref.row['name'])} (${ref.externalId})` : `${String(ref.row['name'])} (${ref.id})`;
}

/** 案件: administrative penalty cases and their lifecycle (行政处罚法 2021). */
export const casesCollection = defineCollection({
  name: 'cases',
  singular: 'Case',
  plural: 'Cases',
  tag: 'cases',
  description:
    'Administrative penalty case 案件 (行政处罚法 2021): at least two handling officers with valid enforcement credentials on filedOn (第42条), a lifecycle that only moves forward, 法制审核 before deciding a major case (第58条), a decision within 90 days of filing (第60条)',
  table: cases,
  fields,
  refs: [
    { field: 'orgUnitId', externalField: 'orgUnitExternalId', target: 'org-units', required: true, description: 'Handling unit 办案机构' },
    {
      field: 'handlingOfficerIds',
      externalField: 'handlingOfficerExternalIds',
      target: 'officers',
      required: true,
      many: true,
      // The rules read the officers' employment status: it may not change before commit.
      lock: 'share',
      notFoundHint: HANDLER_HINT,
      description:
        'Handling officers 承办人: at least two distinct officers, each active and holding a valid enforcement credential on filedOn (行政处罚法 第42条); never assistants 协管人员',
    },
  ],
  filters: {
    query: {
      stage: CaseStage.optional().describe('Only cases at this stage'),
      category: Category.optional().describe('Only cases of this category'),
      major: z
        .enum(['true', 'false'])
        .transform((v) => v === 'true')
        .optional()
        .describe('Only major (true) or ordinary (false) cases'),
      orgUnitId: z.uuid().optional().describe('Only cases of this handling unit'),
      handlingOfficerId: z.uuid().optional().describe('Only cases this officer handles 承办'),
      filedFrom: CalendarDate.optional().describe('Only cases filed on or after this date'),
      filedTo: CalendarDate.optional().describe('Only cases filed on or before this date'),
      overdue: z
        .enum(['true', 'false'])
        .transform((v) => v === 'true')
        .optional()
        .describe(`true: only overdue cases 超期未决 — still undecided (filed … notified) more than ${DECISION_DAYS} days after filedOn (第60条); false: only the others`),
    },
    where(query, { today }) {
      const { stage, category, major, orgUnitId, handlingOfficerId, filedFrom, filedTo, overdue } = query;
      const overdueSql = and(inArray(cases.stage, [...PENDING]), lt(cases.filedOn, addDays(today, -DECISION_DAYS)));
      return [
        typeof stage === 'string' ? eq(cases.stage, stage) : undefined,
        typeof category === 'string' ? eq(cases.category, category) : undefined,
        typeof major === 'boolean' ? eq(cases.major, major) : undefined,
        typeof orgUnitId === 'string' ? eq(cases.orgUnitId, orgUnitId) : undefined,
        typeof handlingOfficerId === 'string' ? arrayContains(cases.handlingOfficerIds, [handlingOfficerId]) : undefined,
        typeof filedFrom === 'string' ? gte(cases.filedOn, filedFrom) : undefined,
        typeof filedTo === 'string' ? lte(cases.filedOn, filedTo) : undefined,
        overdue === true
          ? overdueSql
          : overdue === false
            ? sql`not (${overdueSql})`
            : undefined,
      ];
    },
  },
  derivedFields: {
    stageHistory: z
      .array(StageHistoryEntry)
      // The stage only moves forward: one entry per stage at most.
      .max(16)
      .describe('Stage history 办案过程: each stage the case was written at, with the day and the writer; kept by the server, never written by the client'),
    heaviestPenalty: Penalty.nullable().describe(
      'Heaviest penalty 最重处罚种类 of the decision, in the order of 行政处罚法 第9条; the case is counted under it in the statistics',
    ),
  },
  computed: {
    shape: {
      decisionDeadline: CalendarDate.describe(`Decision deadline 办案期限: filedOn + ${DECISION_DAYS} days, the last day to decide on time (第60条)`),
      overdue: z.boolean().describe(`Overdue 超期未决: still undecided (filed … notified) after the decision deadline, as of today (Asia/Shanghai)`),
    },
    reads: ['filedOn', 'stage'],
    compute(records, { today }) {
      for (const record of records) {
        const filedOn = String(record['filedOn']);
        record['decisionDeadline'] = decisionDeadline(filedOn);
        record['overdue'] = isOverdue(String(record['stage']), filedOn, today);
      }
    },
  },
  transitions: [{ field: 'stage', next: STAGE_NEXT }],
  unique: [
    {
      key: (candidate) => `${candidate.regionCode}:${candidate.caseNumber}`,
      column: caseNumberKey,
      constraint: 'cases_number_key',
      path: '/caseNumber',
      message: (_holder, candidate) =>
        `Case number ${String(candidate.caseNumber)} is already used by another live case of region ${candidate.regionCode}; case numbers are unique per region. Update that case instead.`,
    },
  ],
  rules(candidate, ctx) {
    const c = candidate;
    const stage = String(c.stage);
    const at = stageIndex(stage);
    const filedOn = String(c.filedOn);
    if (filedOn > ctx.today) throw ruleViolation('/filedOn', `filedOn ${c.filedOn} is in the future (today is ${ctx.today}).`);

    const handlerIds = (c['handlingOfficerIds'] as string[] | null) ?? [];
    if (new Set(handlerIds).size < 2) {
      throw ruleViolation(
        '/handlingOfficerIds',
        `A case needs at least two distinct handling officers (行政处罚法 第42条: 执法人员不得少于两人); ${new Set(handlerIds).size} given.`,
      );
    }
    if (handlersChanged({ candidate: c, previous: ctx.previous })) {
      const handlers = ctx.refs.get('handlingOfficerIds');
      for (const [i, ref] of (Array.isArray(handlers) ? handlers : []).entries()) {
        if (ref.row['employmentStatus'] !== 'active') {
          throw ruleViolation(
            `/handlingOfficerIds/${i}`,
            `Handling officer ${handlerName(ref)} is not active (employmentStatus ${String(ref.row['employmentStatus'])}); only active officers can handle a case.`,
          );
        }
      }
    }

    // What each stage needs; a jump forward needs what the skipped stages need (the requirements add up).
    if (at >= DECIDED) {
      if (!c.decidedOn) throw ruleViolation('/decidedOn', `Stage ${stage} needs decidedOn, the day of the decision 决定日期.`);
      if (!c.penalties || c.penalties.length === 0) {
        throw ruleViolation('/penalties', `Stage ${stage} needs penalties, the penalties 处罚种类 of the decision; a case closed without a penalty is terminated instead.`);
      }
    }
    if (at >= EXECUTED && !c.executedOn) throw ruleViolation('/executedOn', `Stage ${stage} needs executedOn, the day the decision was carried out 执行完毕.`);
    if (at >= CLOSED && !c.closedOn) throw ruleViolation('/closedOn', `Stage ${stage} needs closedOn, the day the case was closed 结案.`);
    if (stage === 'transferred' && !c.transferredTo) throw ruleViolation('/transferredTo', 'Stage transferred needs transferredTo, the agency the case went to 移送机关.');

    if (c.decidedOn && c.decidedOn < filedOn) throw ruleViolation('/decidedOn', `decidedOn ${c.decidedOn} is before filedOn ${filedOn}.`);
    if (c.executedOn && (!c.decidedOn || c.executedOn < c.decidedOn)) {
      throw ruleViolation('/executedOn', `executedOn ${c.executedOn} needs a decidedOn on or before it.`);
    }
    const previousStep = c.executedOn ?? c.decidedOn ?? filedOn;
    if (c.closedOn && c.closedOn < previousStep) {
      throw ruleViolation('/closedOn', `closedOn ${c.closedOn} is before the case's previous step (${previousStep}).`);
    }

    const penalties = c.penalties ?? [];
    if (penalties.includes('fine') && !(typeof c.fineFen === 'number' && c.fineFen > 0)) {
      throw ruleViolation('/fineFen', 'penalties has fine 罚款: give its amount in fineFen (fen, > 0).');
    }
    if (!penalties.includes('fine') && c.fineFen != null) throw ruleViolation('/fineFen', 'fineFen is given but penalties has no fine 罚款.');
    if (penalties.includes('confiscation_of_gains') && c.confiscationFen == null) {
      throw ruleViolation('/confiscationFen', 'penalties has confiscation_of_gains 没收违法所得: give the amount in confiscationFen (fen).');
    }
    if (!penalties.some((p) => p === 'confiscation_of_gains' || p === 'confiscation_of_property') && c.confiscationFen != null) {
      throw ruleViolation('/confiscationFen', 'confiscationFen is given but penalties has no confiscation (confiscation_of_gains or confiscation_of_property).');
    }

    // 第58条: without 法制审核 no decision in a major case.
    if (c.major && at >= DECIDED && !historyOf(ctx.previous).some((h) => h.stage === 'legal_review')) {
      throw ruleViolation(
        '/stage',
        `A major case 重大案件 cannot reach ${stage} without passing legal review 法制审核 (行政处罚法 第58条); move it to legal_review first.`,
      );
    }
  },
  checks: [
    {
      // 第42条: each handler holds a valid enforcement credential on filedOn. The credentials read are held
      // FOR SHARE until commit, so a concurrent revocation waits for this case (or this case sees it).
      name: 'handlers-hold-valid-enforcement-credentials',
      async check(subjects: RuleSubject<Fields>[], { tx }) {
        const checked = subjects.filter((s) => handlersChanged(s));
        const ids = [...new Set(checked.flatMap((s) => (s.candidate['handlingOfficerIds'] as string[] | null) ?? []))];
        if (ids.length === 0) return;
        const held = await tx
          .select({ officerId: credentials.officerId, issuedOn: credentials.issuedOn, expiresOn: credentials.expiresOn })
          .from(credentials)
          .where(
            and(
              inArray(credentials.officerId, ids),
              eq(credentials.kind, 'enforcement'),
              eq(credentials.status, 'valid'),
              isNull(credentials.deletedAt),
            ),
          )
          .orderBy(credentials.id)
          .for('share');
        for (const s of checked) {
          const filedOn = String(s.candidate.filedOn);
          const handlers = s.refs.get('handlingOfficerIds');
          for (const [i, ref] of (Array.isArray(handlers) ? handlers : []).entries()) {
            if (held.some((c) => c.officerId === ref.id && c.issuedOn <= filedOn && filedOn <= c.expiresOn)) continue;
            s.fail(
              `/handlingOfficerIds/${i}`,
              `Handling officer ${handlerName(ref)} holds no valid enforcement credential 行政执法证 on filedOn ${filedOn}; officers without one cannot handle a case (行政处罚法 第42条).`,
            );
            break;
          }
        }
      },
    },
  ],
  derive(candidate, ctx) {
    const history = historyOf(ctx.previous);
    const stage = String(candidate.stage);
    const kept = ctx.previous && ctx.previous['stage'] === stage ? history : [...history, { stage, date: ctx.today, by: ctx.principal.sub }];
    return {
      stageHistory: kept,
      legalReviewed: kept.some((h) => h.stage === 'legal_review'),
      heaviestPenalty: heaviestPenalty(candidate.penalties),
    };
  },
});

/** SQL: live cases still undecided after their deadline as of `today` (the compliance list and the filter). */
export function overdueCasesCondition(today: string) {
  return and(isNull(cases.deletedAt), inArray(cases.stage, [...PENDING]), lt(cases.filedOn, addDays(today, -DECISION_DAYS)));
}
