import { and, between, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { coveragePrefix } from '../domain/region.js';

/**
 * SQL for "a region code covered by `region`" (DESIGN §5) as a range over 6-digit codes, so a plain
 * btree index on the region column serves it: 410000 → 410000..419999, 410100 → 410100..410199.
 */
export function coveredBy(column: PgColumn, region: string): SQL {
  const [lo, hi] = coverageRange(region);
  return between(column, lo, hi);
}

/** The lowest and highest code `region` covers. */
export function coverageRange(region: string): [string, string] {
  const prefix = coveragePrefix(region);
  return [prefix.padEnd(6, '0'), prefix.padEnd(6, '9')];
}

/** The caller's coverage, narrowed by an optional region filter (an uncovered filter matches nothing). */
export function regionFilter(column: PgColumn, callerRegion: string, filterRegion: string | undefined): SQL | undefined {
  return filterRegion ? and(coveredBy(column, callerRegion), coveredBy(column, filterRegion)) : coveredBy(column, callerRegion);
}
