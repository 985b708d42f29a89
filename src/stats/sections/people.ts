import { and, inArray, isNull, sql } from 'drizzle-orm';
import { validEnforcementCredentialOn } from '../../collections/credentials.js';
import { STAFFING_TYPES } from '../../collections/officers.js';
import { queryRows } from '../../db/client.js';
import { assistants, credentials, officers } from '../../db/schema/index.js';
import type { FlagFigure, Figure, RateFigure, SectionCounts, StatsSection } from '../figures.js';
import { ASSISTANTS_IN_SERVICE, unitPeople } from '../org-unit-basis.js';
import { coveredBy } from '../../records/region-scope.js';
import { inRegions } from '../regions.js';

const STAFFING_LABELS: Record<(typeof STAFFING_TYPES)[number], string> = {
  civil_servant: '公务员',
  civil_servant_managed: '参照公务员法管理',
  public_institution: '事业编制',
  contract: '劳动合同工/临时工',
};

const figures: (Figure | RateFigure | FlagFigure)[] = [
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
  {
    key: 'assistants',
    label: '协管人员数',
    unit: 'count',
    definition: 'Assistants 协管人员 in service: status probation 试用 or active 在岗, in the current records, by the assistant’s region.',
  },
  {
    key: 'assistantRatio',
    label: '协管人员与执法人员比',
    unit: 'rate',
    numerator: 'assistants',
    denominator: 'activeOfficers',
    definition: 'assistants / activeOfficers; it may not exceed 1 (中发〔2015〕37号: 协管人员数量不得超过在编执法人员).',
  },
  {
    key: 'assistantRatioExceeded',
    label: '协管人员超比例',
    unit: 'flag',
    numerator: 'assistants',
    denominator: 'activeOfficers',
    definition: 'true when assistants > activeOfficers (the ratio is over 1, or there are assistants and no active officer).',
  },
  {
    key: 'orgUnitsOverAssistantRatio',
    label: '协管超比例单位数',
    unit: 'count',
    definition: 'Live org units, by the unit’s region, whose assistants in service (employing orgUnit) outnumber their active officers — the units of the compliance list assistants-over-quota.',
  },
];

/** 人员: active officers by staffing type, the credential-holding rate and the assistants, by child region. */
export const peopleSection: StatsSection = {
  name: 'people',
  label: '人员',
  figures,
  async collect({ db, regions, period, callerRegion }) {
    const child = regions.childOf(officers.regionCode);
    // Holders as one hash join over the credentials valid on asOf, not an EXISTS per officer. No DISTINCT needed:
    // the exclusion constraint credentials_one_valid_per_kind leaves at most one valid credential of a kind per day.
    const holders = sql`(select ${credentials.officerId} as officer_id from ${credentials} where ${validEnforcementCredentialOn(period.asOf)} and ${coveredBy(credentials.regionCode, callerRegion)})`;
    const [rows, assistantRows, unitRows] = await Promise.all([
      queryRows<{ child: string; staffingType: string; active: number; holders: number }>(
        db,
        sql`select ${child} as child, ${officers.staffingType} as "staffingType", count(*)::int as active, count(h.officer_id)::int as holders
            from ${officers} left join ${holders} as h on h.officer_id = ${officers.id}
            where ${officers.deletedAt} is null and ${officers.employmentStatus} = 'active' and ${officers.regionCode} between ${regions.lo} and ${regions.hi}
            group by 1, 2`,
      ),
      db
        .select({ child: sql<string>`${regions.childOf(assistants.regionCode)}`, n: sql<number>`count(*)::int` })
        .from(assistants)
        .where(and(isNull(assistants.deletedAt), inArray(assistants.status, [...ASSISTANTS_IN_SERVICE]), inRegions(assistants.regionCode, regions)))
        .groupBy(sql`1`),
      queryRows<{ child: string; n: number }>(
        db,
        sql`select ${regions.childOf(sql`u.region_code`)} as child, count(*)::int as n
            from ${unitPeople(regions.lo, regions.hi)} as u where u.assistants > u.active_officers group by 1`,
      ),
    ]);
    const out: SectionCounts = new Map();
    for (const row of rows) {
      const counts = out.get(row.child) ?? {};
      counts['activeOfficers'] = (counts['activeOfficers'] ?? 0) + row.active;
      counts[`byStaffingType.${row.staffingType}`] = (counts[`byStaffingType.${row.staffingType}`] ?? 0) + row.active;
      counts['credentialHolders'] = (counts['credentialHolders'] ?? 0) + row.holders;
      out.set(row.child, counts);
    }
    for (const row of assistantRows) out.set(row.child, { ...out.get(row.child), assistants: row.n });
    for (const row of unitRows) out.set(row.child, { ...out.get(row.child), orgUnitsOverAssistantRatio: row.n });
    return out;
  },
};
