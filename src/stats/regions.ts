import { and, between, isNull, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.js';
import { officers, orgUnits } from '../db/schema/index.js';
import { covers, HENAN_CITIES } from '../domain/region.js';
import { coverageRange } from '../records/region-scope.js';

export type RegionLevel = 'province' | 'city' | 'county';

export const levelOf = (region: string): RegionLevel => (region.endsWith('0000') ? 'province' : region.endsWith('00') ? 'city' : 'county');

/** The regions a report covers: the region itself and how its codes fall into child rows. */
export interface ReportRegions {
  region: string;
  level: RegionLevel;
  lo: string;
  hi: string;
  /** SQL giving the child row a record's region code belongs to (province → its city, city → itself). */
  childOf(column: PgColumn | SQL): SQL;
}

export function reportRegions(region: string): ReportRegions {
  const level = levelOf(region);
  const [lo, hi] = coverageRange(region);
  return {
    region,
    level,
    lo,
    hi,
    childOf: (column) => (level === 'province' ? sql`(substr(${column}, 1, 4) || '00')` : sql`(${column})::text`),
  };
}

export const inRegions = (column: PgColumn, r: ReportRegions) => between(column, r.lo, r.hi);

/** A child row's code for a record region code (in JS, as `childOf` in SQL). */
export function childCode(r: ReportRegions, code: string): string {
  return r.level === 'province' ? `${code.slice(0, 4)}00` : code;
}

/**
 * The child rows shown even with nothing to report (explicit zeros): the known cities of a province or
 * the known districts and counties of a city (GB/T 2260, `HENAN_CITIES`), and every region where an
 * org unit or an officer is recorded. A county has no child rows.
 */
export async function knownChildren(db: Db, r: ReportRegions): Promise<string[]> {
  if (r.level === 'county') return [];
  const known = Object.keys(HENAN_CITIES).filter(
    (code) => code !== r.region && covers(r.region, code) && (r.level === 'province' ? code.endsWith('00') && !code.endsWith('0000') : !code.endsWith('00')),
  );
  const used = await db
    .selectDistinct({ code: orgUnits.regionCode })
    .from(orgUnits)
    .where(and(isNull(orgUnits.deletedAt), inRegions(orgUnits.regionCode, r)))
    .union(db.selectDistinct({ code: officers.regionCode }).from(officers).where(and(isNull(officers.deletedAt), inRegions(officers.regionCode, r))));
  return [...new Set([...known, ...used.map((u) => childCode(r, u.code))])].sort();
}

export function regionName(code: string): string | null {
  return HENAN_CITIES[code] ?? null;
}
