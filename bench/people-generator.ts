// Generates the people, equipment and training rows the people, equipment and training statistics and their
// compliance lists read, straight into PostgreSQL with INSERT … SELECT over generate_series (as the case
// generator does), in proportions like the demo data's: about 33 officers per org unit, 0.6 assistants per
// officer (every tenth unit over the ratio of 1), an enforcement credential for career staff (some expired),
// two post statuses per officer (most on duty), cameras, terminals, radios and uniforms per officer and
// vehicles and protective gear per unit (some units short), initial and annual trainings and, for
// division-level cadres, a provincial one (about a third older than 3 years).
import type pg from 'pg';
import { BENCH_REGIONS } from './case-generator.js';

export interface PeopleCounts {
  orgUnits: number;
  officers: number;
  credentials: number;
  postStatuses: number;
  assistants: number;
  equipment: number;
  trainings: number;
}

export async function generatePeople(pool: pg.Pool, officers: number, today: string): Promise<PeopleCounts> {
  const units = Math.max(BENCH_REGIONS.length, Math.round(officers / 33));
  const step = async (label: string, text: string, params: unknown[] = []) => {
    const t0 = Date.now();
    const result = await pool.query(text, params);
    process.stdout.write(`  ${label}: ${result.rowCount} rows in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    return result.rowCount ?? 0;
  };
  const counts: PeopleCounts = { orgUnits: 0, officers: 0, credentials: 0, postStatuses: 0, assistants: 0, equipment: 0, trainings: 0 };

  counts.orgUnits = await step(
    'org units',
    `insert into org_units (region_code, external_id, name, level)
     select ($2::varchar[])[1 + i % cardinality($2::varchar[])], 'BENCH-U' || lpad(i::text, 6, '0'), '执法中队 ' || i, 'street'
     from generate_series(1, $1::int) as i`,
    [units, BENCH_REGIONS],
  );
  // Unit n (1-based, by external id) is units.ids[n]; officer i works in unit 1 + i % units.
  const unitArrays = `(select array_agg(id order by external_id) as ids, array_agg(region_code order by external_id) as regions
                       from org_units where external_id like 'BENCH-U%')`;
  counts.officers = await step(
    'officers',
    `insert into officers (region_code, external_id, name, gender, id_card_number_cipher, id_card_number_hash, birth_date,
                           org_unit_id, cadre_level, staffing_type, hire_date, employment_status)
     select u.regions[1 + i % cardinality(u.ids)], 'BENCH-O' || i, '执法人员' || i, '1', 'x', md5('BENCH-O' || i), '1980-01-01',
            u.ids[1 + i % cardinality(u.ids)],
            case when r1 < 0.03 then 'division_or_above' when r1 < 0.23 then 'section' else 'none' end,
            case when r2 < 0.55 then 'civil_servant' when r2 < 0.7 then 'civil_servant_managed' when r2 < 0.9 then 'public_institution' else 'contract' end,
            $2::date - (365 + floor(random() * 7000))::int,
            case when r3 < 0.92 then 'active' when r3 < 0.96 then 'retired' else 'transferred' end
     from generate_series(1, $1::int) as i, ${unitArrays} as u,
          lateral (select random() as r1, random() as r2, random() as r3 where i is not null offset 0) as r`,
    [officers, today],
  );
  const benchOfficers = `(select * from officers where external_id like 'BENCH-O%')`;
  counts.credentials = await step(
    'credentials',
    `insert into credentials (region_code, external_id, officer_id, credential_number, kind, issuing_authority, issued_on, expires_on, status)
     select o.region_code, 'BENCH-C' || o.external_id, o.id, 'BENCH-C' || o.external_id, 'enforcement', '河南省人民政府', issued, issued + 1826,
            case when random() < 0.98 then 'valid' else 'revoked' end
     from ${benchOfficers} o, lateral (select $1::date - floor(random() * 1900)::int as issued where o.id is not null offset 0) as d
     where o.staffing_type <> 'contract' and o.employment_status = 'active'`,
    [today],
  );
  counts.postStatuses = await step(
    'post statuses',
    `insert into post_statuses (region_code, external_id, officer_id, status, post, effective_from)
     select o.region_code, 'BENCH-P' || n || '-' || o.external_id, o.id,
            case when random() < 0.75 then 'on_duty' else (array['off_duty','on_leave','training','seconded'])[1 + floor(random() * 4)::int] end,
            '巡查岗', case n when 1 then $1::date - (300 + floor(random() * 600))::int else $1::date - floor(random() * 60)::int end
     from ${benchOfficers} o cross join generate_series(1, 2) as n
     where o.employment_status = 'active' and random() < 0.9`,
    [today],
  );
  counts.assistants = await step(
    'assistants',
    `insert into assistants (region_code, external_id, name, gender, id_card_number_cipher, id_card_number_hash, birth_date,
                             org_unit_id, supervising_officer_id, admitted_on, status, duties)
     select u.regions[k], 'BENCH-A' || j, '协管' || j, '1', 'x', md5('BENCH-A' || j), '1990-01-01', u.ids[k],
            (select id from officers where org_unit_id = u.ids[k] limit 1), '2022-01-01',
            case when random() < 0.8 then 'active' when random() < 0.6 then 'probation' else 'dismissed' end, array['patrol']
     from generate_series(1, $1::int) as j, ${unitArrays} as u,
          -- every fifth assistant goes to a unit whose number ends in 0: those units end up over the ratio
          lateral (select case when j % 5 = 0 then 1 + ((j / 5) * 10) % cardinality(u.ids) else 1 + j % cardinality(u.ids) end as k offset 0) as pick`,
    [Math.round(officers * 0.6)],
  );
  counts.equipment = await step(
    'equipment per officer',
    `insert into equipment (region_code, external_id, category, model, serial_number, org_unit_id, status)
     select o.region_code, null, c.category, 'BENCH', 'BENCH-' || o.external_id || '-' || c.n, o.org_unit_id,
            case when random() < 0.92 then 'in_service' else 'maintenance' end
     from ${benchOfficers} o
     cross join lateral (values ('body_camera', 1, 0.75), ('handheld_terminal', 1, 0.55), ('radio', 1, 0.7), ('uniform', 1, 1.0), ('uniform', 2, 0.97))
                        as c(category, n, p)
     where o.employment_status = 'active' and random() < c.p`,
  );
  counts.equipment += await step(
    'equipment per unit',
    `insert into equipment (region_code, external_id, category, model, serial_number, org_unit_id, status)
     select u.region_code, null, c.category, 'BENCH', 'BENCH-' || u.external_id || '-' || c.category || '-' || k, u.id, 'in_service'
     from org_units u
     cross join lateral (values ('vehicle', 3 + (hashtext(u.id::text) & 3)), ('protective', 7 + ((hashtext(u.id::text) >> 2) & 7))) as c(category, n)
     cross join lateral generate_series(1, c.n) as k
     where u.external_id like 'BENCH-U%'`,
  );
  counts.trainings = await step(
    'trainings',
    `insert into trainings (region_code, person_type, person_id, kind, title, organizer, started_on, ended_on, hours, passed)
     select o.region_code, 'officer', o.id, t.kind, t.kind, '河南省住房和城乡建设厅', t.ended - 4, t.ended, 40, random() < 0.97
     from ${benchOfficers} o
     cross join lateral (values ('initial', o.hire_date + 60, 0.95), ('annual', $1::date - 200 - floor(random() * 300)::int, 0.8),
                                ('provincial', $1::date - 30 - floor(random() * 1600)::int, case when o.cadre_level = 'division_or_above' then 0.9 else 0 end))
                        as t(kind, ended, p)
     where o.employment_status = 'active' and random() < t.p`,
    [today],
  );
  return counts;
}
