import { z } from 'zod';
import type { Db } from '../db/client.js';
import type { EquipmentQuotas } from '../domain/equipment-quotas.js';
import { isFlag, isRate, rate, type StatsSection } from './figures.js';
import type { Period } from './period.js';
import { knownChildren, regionName, reportRegions } from './regions.js';
import { casesSection } from './sections/cases.js';
import { equipmentSection } from './sections/equipment.js';
import { peopleSection } from './sections/people.js';
import { trainingSection } from './sections/training.js';

/** The sections of the quarterly and annual statistics, in report order. */
export const STATS_SECTIONS: readonly StatsSection[] = [casesSection, peopleSection, equipmentSection, trainingSection];

export interface RegionRow {
  regionCode: string;
  regionName: string | null;
  [section: string]: unknown;
}

export interface StatsReport {
  regionCode: string;
  regionName: string | null;
  period: Period;
  total: RegionRow;
  regions: RegionRow[];
}

type Flat = Record<string, number | boolean | null>;

/** Nests `a.b` keys: { byCategory: { parking: 3 } }. */
function nest(flat: Flat): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return out;
}

function finish(section: StatsSection, counts: Record<string, number>): Flat {
  const flat: Flat = {};
  for (const figure of section.figures) {
    flat[figure.key] = isRate(figure)
      ? rate(counts[figure.numerator] ?? 0, counts[figure.denominator] ?? 0)
      : isFlag(figure)
        ? (counts[figure.numerator] ?? 0) > (counts[figure.denominator] ?? 0)
        : (counts[figure.key] ?? 0);
  }
  return flat;
}

/** The report of `region` for `period`: one collection per section, child rows (zeros included) and their sum. */
export async function buildReport(
  db: Db,
  region: string,
  period: Period,
  quotas: EquipmentQuotas,
  callerRegion: string = region,
  sections = STATS_SECTIONS,
): Promise<StatsReport> {
  const regions = reportRegions(region);
  const collected = await Promise.all(sections.map((s) => s.collect({ db, regions, period, quotas, callerRegion })));
  const children = new Set(await knownChildren(db, regions));
  if (regions.level !== 'county') for (const counts of collected) for (const code of counts.keys()) children.add(code);
  const row = (code: string, pick: (i: number) => Record<string, number>): RegionRow => {
    const out: RegionRow = { regionCode: code, regionName: regionName(code) };
    sections.forEach((section, i) => (out[section.name] = nest(finish(section, pick(i)))));
    return out;
  };
  const sum = (i: number) => {
    const total: Record<string, number> = {};
    for (const counts of collected[i]!.values()) for (const [k, v] of Object.entries(counts)) total[k] = (total[k] ?? 0) + v;
    return total;
  };
  return {
    regionCode: region,
    regionName: regionName(region),
    period,
    total: row(region, sum),
    regions: [...children].sort().map((code) => row(code, (i) => collected[i]!.get(code) ?? {})),
  };
}

// ---- schemas ------------------------------------------------------------------------------------

function sectionSchema(section: StatsSection): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  const groups: Record<string, Record<string, z.ZodType>> = {};
  for (const figure of section.figures) {
    const type = figure.unit === 'rate' ? z.number().nullable() : figure.unit === 'flag' ? z.boolean() : z.number().int();
    const value = type.describe(`${figure.label}: ${figure.definition}`);
    const [group, leaf] = figure.key.includes('.') ? figure.key.split('.') : [undefined, figure.key];
    if (group) (groups[group] ??= {})[leaf!] = value;
    else shape[figure.key] = value;
  }
  for (const [group, leaves] of Object.entries(groups)) shape[group] = z.object(leaves);
  return z.object(shape).describe(section.label);
}

export const StatsRegionRow = z
  .object({
    regionCode: z.string().describe('Region code 行政区划代码'),
    regionName: z.string().nullable().describe('Region name 名称, when known'),
    ...Object.fromEntries(STATS_SECTIONS.map((s) => [s.name, sectionSchema(s)])),
  })
  .meta({ id: 'StatsRegionRow' });

export const StatsReportSchema = z
  .object({
    regionCode: z.string().describe('The region reported on: the caller’s region, or the regionCode asked for'),
    regionName: z.string().nullable(),
    period: z.object({
      kind: z.enum(['quarter', 'year']),
      year: z.number().int(),
      quarter: z.number().int().nullable(),
      from: z.iso.date().describe('First day (Asia/Shanghai)'),
      to: z.iso.date().describe('Last day (Asia/Shanghai)'),
      asOf: z.iso.date().describe('The day stock figures are taken on: `to`, or today while the period runs'),
    }),
    total: StatsRegionRow.describe('The whole region: the sum of its child rows'),
    regions: z
      .array(StatsRegionRow)
      .describe('Child regions (province → cities, city → its districts and counties; none for a county), zeros included'),
  })
  .meta({ id: 'StatsReport' });

/** Every figure's definition, for the OpenAPI description and the README. */
export function figureDefinitions(): string {
  return STATS_SECTIONS.map(
    (s) => `**${s.name} ${s.label}**\n${s.figures.map((f) => `- \`${s.name}.${f.key}\` ${f.label}: ${f.definition}`).join('\n')}`,
  ).join('\n\n');
}

// ---- CSV ----------------------------------------------------------------------------------------

const csvCell = (value: unknown) => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

function flatten(row: RegionRow, section: StatsSection): (number | boolean | null)[] {
  return section.figures.map((f) => {
    let node: unknown = row[section.name];
    for (const part of f.key.split('.')) node = (node as Record<string, unknown>)[part];
    return node as number | boolean | null;
  });
}

/**
 * The report as CSV for a spreadsheet: UTF-8 with a BOM, CRLF lines, one row per region (the total first),
 * each column headed by its code and its Chinese label, e.g. `cases.filed 立案数`.
 */
export function reportCsv(report: StatsReport, sections = STATS_SECTIONS): string {
  const header = [
    'regionCode 行政区划代码',
    'regionName 名称',
    'period 统计期',
    ...sections.flatMap((s) => s.figures.map((f) => `${s.name}.${f.key} ${f.label}`)),
  ];
  const label = report.period.kind === 'quarter' ? `${report.period.year}Q${report.period.quarter}` : String(report.period.year);
  const lines = [report.total, ...report.regions].map((row) =>
    [row.regionCode, row.regionName, label, ...sections.flatMap((s) => flatten(row, s))].map(csvCell).join(','),
  );
  return `\uFEFF${[header.map(csvCell).join(','), ...lines].join('\r\n')}\r\n`;
}
