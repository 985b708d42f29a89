// The penalty-case lifecycle (行政处罚法 2021) as pure data and functions: stages in order, the moves
// allowed between them, what each stage requires, the 90-day decision deadline and the order of
// penalties from light to heavy (第9条, as counted in the 行政执法统计年报).
import { addDays } from './dates.js';

/** The main line of a case, in order: 立案 → 调查取证 → 法制审核 → 告知 → 决定 → 执行 → 结案. */
export const MAIN_STAGES = ['filed', 'investigating', 'legal_review', 'notified', 'decided', 'executed', 'closed'] as const;
/** Branches that end a case before a decision: 终止 (incl. 不予处罚) and 移送 (to another agency or the judicial organs). */
export const BRANCH_STAGES = ['terminated', 'transferred'] as const;
export const CASE_STAGES = [...MAIN_STAGES, ...BRANCH_STAGES] as const;
export type CaseStage = (typeof CASE_STAGES)[number];

/** Stages of a case still waiting for its decision (the 90-day clock of 第60条 runs). */
export const PENDING_STAGES = ['filed', 'investigating', 'legal_review', 'notified'] as const satisfies readonly CaseStage[];

export const STAGE_LABELS: Record<CaseStage, string> = {
  filed: '立案',
  investigating: '调查取证',
  legal_review: '法制审核',
  notified: '告知',
  decided: '决定',
  executed: '执行',
  closed: '结案',
  terminated: '终止',
  transferred: '移送',
};

export const stageIndex = (stage: string) => (MAIN_STAGES as readonly string[]).indexOf(stage);

/**
 * Where a case may move from each stage: any later stage of the main line (a jump is allowed when the
 * fields the skipped stages require are present — the per-record rules check them), and, while undecided,
 * to terminated or transferred. Decided cases only go on; terminated, transferred and closed are final.
 */
export const STAGE_NEXT: Readonly<Record<string, readonly CaseStage[]>> = Object.fromEntries(
  CASE_STAGES.map((stage): [string, readonly CaseStage[]] => {
    const i = stageIndex(stage);
    if (i < 0) return [stage, []];
    const later = MAIN_STAGES.slice(i + 1);
    return [stage, (PENDING_STAGES as readonly string[]).includes(stage) ? [...later, ...BRANCH_STAGES] : later];
  }),
);

/** 行政处罚法 第9条 penalty types, from light to heavy as the 年报 counts them; `other` 其他 is counted lightest. */
export const PENALTIES = [
  'other',
  'warning',
  'public_criticism',
  'fine',
  'confiscation_of_gains',
  'confiscation_of_property',
  'license_suspension',
  'qualification_downgrade',
  'license_revocation',
  'business_restriction',
  'suspension_order',
  'closure_order',
  'practice_ban',
] as const;
export type Penalty = (typeof PENALTIES)[number];

export const PENALTY_LABELS: Record<Penalty, string> = {
  other: '其他',
  warning: '警告',
  public_criticism: '通报批评',
  fine: '罚款',
  confiscation_of_gains: '没收违法所得',
  confiscation_of_property: '没收非法财物',
  license_suspension: '暂扣许可证件',
  qualification_downgrade: '降低资质等级',
  license_revocation: '吊销许可证件',
  business_restriction: '限制开展生产经营活动',
  suspension_order: '责令停产停业',
  closure_order: '责令关闭',
  practice_ban: '限制从业',
};

/** The heaviest of a set of penalties (a case with several counts once, under this one); null for none. */
export function heaviestPenalty(penalties: readonly string[] | null | undefined): Penalty | null {
  let best = -1;
  for (const p of penalties ?? []) best = Math.max(best, (PENALTIES as readonly string[]).indexOf(p));
  return best < 0 ? null : PENALTIES[best]!;
}

export const CASE_CATEGORIES = [
  'city_appearance',
  'landscaping',
  'municipal_utilities',
  'construction',
  'dust',
  'muck_transport',
  'parking',
  'catering_fumes',
  'other',
] as const;

export const CATEGORY_LABELS: Record<(typeof CASE_CATEGORIES)[number], string> = {
  city_appearance: '市容环境',
  landscaping: '园林绿化',
  municipal_utilities: '市政公用',
  construction: '违法建设',
  dust: '扬尘污染',
  muck_transport: '渣土运输',
  parking: '违规停车',
  catering_fumes: '餐饮油烟',
  other: '其他',
};

export const CASE_SOURCES = ['patrol', 'complaint', 'assigned', 'transferred_in', 'non_site', 'other'] as const;

/** 行政处罚法 第60条: decide within 90 days of 立案. The last day a decision is on time. */
export const DECISION_DAYS = 90;
export const decisionDeadline = (filedOn: string) => addDays(filedOn, DECISION_DAYS);

/** Undecided after the deadline: still pending and today is past filedOn + 90 days. */
export function isOverdue(stage: string, filedOn: string, today: string): boolean {
  return (PENDING_STAGES as readonly string[]).includes(stage) && decisionDeadline(filedOn) < today;
}
