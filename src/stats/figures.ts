import type { Db } from '../db/client.js';
import type { EquipmentQuotas } from '../domain/equipment-quotas.js';
import type { Period } from './period.js';
import type { ReportRegions } from './regions.js';

/** One reported figure: its key within its section, Chinese label, unit and definition (OpenAPI, README, CSV). */
export interface Figure {
  key: string;
  label: string;
  unit: 'count' | 'fen' | 'rate' | 'flag';
  definition: string;
}

/** A ratio of two count figures of the same section, computed after the child rows are summed; null when the denominator is 0. */
export interface RateFigure extends Figure {
  unit: 'rate';
  numerator: string;
  denominator: string;
}

/** A yes/no of two count figures of the same section, computed after the child rows are summed: numerator > denominator. */
export interface FlagFigure extends Figure {
  unit: 'flag';
  numerator: string;
  denominator: string;
}

export interface StatsContext {
  db: Db;
  regions: ReportRegions;
  period: Period;
  /** The equipment quota table in force (defaults, or EQUIPMENT_QUOTAS_FILE over them). */
  quotas: EquipmentQuotas;
  /**
   * The caller's region: records the figures read besides the counted ones (e.g. the credentials that make
   * an officer a holder) count only when the caller may see them, so a figure hints at nothing outside.
   */
  callerRegion: string;
}

/** Counts (and fen amounts) per child region code, by figure key. */
export type SectionCounts = Map<string, Record<string, number>>;

/**
 * A section of the report (cases, people, equipment, training): the figures it defines and a set-wise
 * collection over the whole region, grouped by child region.
 */
export interface StatsSection {
  name: string;
  label: string;
  figures: (Figure | RateFigure | FlagFigure)[];
  collect(ctx: StatsContext): Promise<SectionCounts>;
}

export const isRate = (figure: Figure): figure is RateFigure => figure.unit === 'rate';
export const isFlag = (figure: Figure): figure is FlagFigure => figure.unit === 'flag';

/** Rates are rounded to four decimals. */
export function rate(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : Math.round((numerator / denominator) * 10_000) / 10_000;
}
