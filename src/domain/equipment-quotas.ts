// Equipment quotas 装备配备标准. The national 城市管理执法装备配备指导标准 (2020) names the categories and leaves the
// quantities to the provinces, and Henan's figures were not found in public sources; the defaults below are
// this service's own choice, documented as defaults, and a province replaces them with EQUIPMENT_QUOTAS_FILE.
// Pure: parsing and arithmetic only; reading the file is the caller's business.
import { z } from 'zod';

export const EQUIPMENT_CATEGORIES = ['vehicle', 'body_camera', 'handheld_terminal', 'radio', 'uniform', 'protective', 'other'] as const;
export type EquipmentCategory = (typeof EQUIPMENT_CATEGORIES)[number];

const Quantity = z.number().int('must be a whole number').min(1, 'must be at least 1').max(1000);

/** How many items of a category a unit (or region) should have. */
export const QuotaRule = z.discriminatedUnion(
  'basis',
  [
    z.strictObject({ basis: z.literal('per_on_duty_officer'), quantity: Quantity }).describe('quantity items per officer on duty today'),
    z.strictObject({ basis: z.literal('per_org_unit'), quantity: Quantity }).describe('quantity items per org unit'),
    z
      .strictObject({ basis: z.literal('per_officers'), officers: Quantity, quantity: Quantity })
      .describe('quantity items per started group of `officers` active officers'),
  ],
  { error: 'basis must be per_on_duty_officer, per_org_unit or per_officers' },
);
export type QuotaRule = z.infer<typeof QuotaRule>;

/** A category → its rule; a category left out (or null) has no quota. */
export type EquipmentQuotas = Partial<Record<EquipmentCategory, QuotaRule>>;

/**
 * The defaults (not a legal standard):
 * - body_camera 执法记录仪: 1 per officer on duty — 全过程记录 (行政处罚法 第47条) and county 三项制度 rules have every
 *   officer on duty carry one;
 * - handheld_terminal 执法终端: 1 per 2 active officers (shared between shifts);
 * - radio 对讲机: 1 per officer on duty;
 * - vehicle 执法车辆: 1 per 8 active officers;
 * - uniform 制式服装: 2 sets per active officer (建督〔2017〕31号 supplies uniforms per person; one to wear, one to wash);
 * - protective 防护装备: 10 per org unit (helmets, vests, gloves kept at the unit);
 * - other: no quota.
 */
export const DEFAULT_EQUIPMENT_QUOTAS: Readonly<EquipmentQuotas> = Object.freeze({
  body_camera: { basis: 'per_on_duty_officer', quantity: 1 },
  handheld_terminal: { basis: 'per_officers', officers: 2, quantity: 1 },
  radio: { basis: 'per_on_duty_officer', quantity: 1 },
  vehicle: { basis: 'per_officers', officers: 8, quantity: 1 },
  uniform: { basis: 'per_officers', officers: 1, quantity: 2 },
  protective: { basis: 'per_org_unit', quantity: 10 },
});

/**
 * The file's shape: categories to rules. A category named in the file replaces its default; `null` removes the
 * quota of that category; categories not named keep their defaults. Unknown categories are refused.
 */
export const EquipmentQuotasFile = z.strictObject(
  Object.fromEntries(EQUIPMENT_CATEGORIES.map((c) => [c, QuotaRule.nullable().optional()])) as Record<
    EquipmentCategory,
    z.ZodOptional<z.ZodNullable<typeof QuotaRule>>
  >,
);

export class EquipmentQuotasError extends Error {
  override name = 'EquipmentQuotasError';
}

/** The quotas from a file's text (JSON) over the defaults; throws an EquipmentQuotasError with one readable line. */
export function equipmentQuotasFromJson(text: string, defaults: Readonly<EquipmentQuotas> = DEFAULT_EQUIPMENT_QUOTAS): EquipmentQuotas {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new EquipmentQuotasError(`not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = EquipmentQuotasFile.safeParse(json);
  if (!parsed.success) {
    throw new EquipmentQuotasError(parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '));
  }
  const quotas: EquipmentQuotas = { ...defaults };
  for (const category of EQUIPMENT_CATEGORIES) {
    const rule = parsed.data[category];
    if (rule === null) delete quotas[category];
    else if (rule !== undefined) quotas[category] = rule;
  }
  return quotas;
}

/** What a quota is counted against. */
export interface QuotaBasis {
  onDutyOfficers: number;
  activeOfficers: number;
  orgUnits: number;
}

/** Items a rule asks for: per started group of officers (9 officers at 1 per 8 need 2 vehicles). */
export function requiredQuantity(rule: QuotaRule, basis: QuotaBasis): number {
  switch (rule.basis) {
    case 'per_on_duty_officer':
      return rule.quantity * basis.onDutyOfficers;
    case 'per_org_unit':
      return rule.quantity * basis.orgUnits;
    case 'per_officers':
      return rule.quantity * Math.ceil(basis.activeOfficers / rule.officers);
  }
}
