import { and, eq, isNull, sql } from 'drizzle-orm';
import { validEnforcementCredentialOn } from '../../collections/credentials.js';
import { STAFFING_TYPES } from '../../collections/officers.js';
import { credentials, officers } from '../../db/schema/index.js';
import type { Figure, RateFigure, SectionCounts, StatsSection } from '../figures.js';
import { inRegions } from '../regions.js';

const STAFFING_LABELS: Record<(typeof STAFFING_TYPES)[number], string> = {
  civil_servant: '公务员',
  civil_servant_managed: '参照公务员法管理',
  public_institution: '事业编制',
  contract: '劳动合同工/临时工',
};

const figures: (Figure | RateFigure)[] = [
  {
    key: 'activeOfficers',
    label: '在职执法人员数',
    unit: 'count',
    definition: 'Officers whose employmentStatus is active in the current records (a snapshot: employment history is not kept).',
  },
  ...STAFFING_TYPES.map((t) => ({
    key: `byStaffingType.${t}`,
    label: `在职执法人员数·${STAFFING_LABELS[t]}`,
    unit: 'count' as const,
    definition: `Active officers of staffingType ${t} ${STAFFING_LABELS[t]}.`,
  })),
  {
    key: 'credentialHolders',
    label: '持证人数',
    unit: 'count',
    definition: 'Active officers holding an enforcement credential 行政执法证 valid on asOf (status valid, issuedOn ≤ asOf ≤ expiresOn).',
  },
  {
    key: 'credentialHoldingRate',
    label: '持证率',
    unit: 'rate',
    numerator: 'credentialHolders',
    denominator: 'activeOfficers',
    definition: '行政执法证持证率: credentialHolders / activeOfficers.',
  },
];

/** 人员: active officers by staffing type and the credential-holding rate, by child region. */
export const peopleSection: StatsSection = {
  name: 'people',
  label: '人员',
  figures,
  async collect({ db, regions, period }) {
    const child = regions.childOf(officers.regionCode);
    const holds = sql`exists (select 1 from ${credentials} where ${credentials.officerId} = ${officers.id} and ${validEnforcementCredentialOn(period.asOf)})`;
    const rows = await db
      .select({
        child: sql<string>`${child}`,
        staffingType: officers.staffingType,
        active: sql<number>`count(*)::int`,
        holders: sql<number>`count(*) filter (where ${holds})::int`,
      })
      .from(officers)
      .where(and(isNull(officers.deletedAt), eq(officers.employmentStatus, 'active'), inRegions(officers.regionCode, regions)))
      .groupBy(sql`1`, officers.staffingType);
    const out: SectionCounts = new Map();
    for (const row of rows) {
      const counts = out.get(row.child) ?? {};
      counts['activeOfficers'] = (counts['activeOfficers'] ?? 0) + row.active;
      counts[`byStaffingType.${row.staffingType}`] = (counts[`byStaffingType.${row.staffingType}`] ?? 0) + row.active;
      counts['credentialHolders'] = (counts['credentialHolders'] ?? 0) + row.holders;
      out.set(row.child, counts);
    }
    return out;
  },
};
