// Generates cases straight into PostgreSQL with one INSERT … SELECT over generate_series: a million cases
// through the API would measure the write path, not the statistics. The rows follow the shapes the API
// writes (stages consistent with their dates, the heaviest penalty and the legal-review flag filled in).
import type pg from 'pg';

/** County-level regions of the bench: Zhengzhou's districts and one county per other city. */
export const BENCH_REGIONS = [
  '410102', '410103', '410104', '410105', '410106', '410108', '410122', '410181', '410182', '410183', '410184', '410185',
  '410202', '410302', '410402', '410502', '410602', '410702', '410802', '410902', '411002', '411102', '411202', '411302',
  '411402', '411502', '411602', '411702', '419001',
];

/** One org unit and two officers per region (handlers), then `count` cases filed evenly over `fromDate`…`toDate`. */
export async function generateCases(pool: pg.Pool, count: number, fromDate: string, toDate: string, chunk = 250_000) {
  await pool.query(`
    insert into org_units (region_code, external_id, name, level)
    select r, 'BENCH-OU', '城市管理执法大队 ' || r, 'county' from unnest($1::varchar[]) as r
    on conflict do nothing`, [BENCH_REGIONS]);
  await pool.query(`
    insert into officers (region_code, external_id, name, gender, id_card_number_cipher, id_card_number_hash, birth_date,
                          org_unit_id, cadre_level, staffing_type, employment_status)
    select u.region_code, 'BENCH-H' || n, '办案人员' || n, '1', 'x', md5(u.region_code || n), '1980-01-01', u.id, 'none',
           case when n = 1 then 'civil_servant' else 'public_institution' end, 'active'
    from org_units u cross join generate_series(1, 2) as n
    where u.external_id = 'BENCH-OU'`);
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    await pool.query(
      `
      with base as (
        select i, u.id as unit_id, u.region_code,
               (select array_agg(o.id order by o.id) from officers o where o.org_unit_id = u.id) as handlers,
               $3::date + floor(random() * ($4::date - $3::date + 1))::int as filed_on,
               random() as r_stage, random() as r_pen, random() as r_days, random() < 0.05 as major,
               (array['city_appearance','landscaping','municipal_utilities','construction','dust','muck_transport','parking','catering_fumes','other'])[1 + floor(random() * 9)::int] as category
        from generate_series($1::int, $1::int + $2::int - 1) as i
        join lateral (select id, region_code from org_units where external_id = 'BENCH-OU'
                      order by region_code offset (i % ${BENCH_REGIONS.length}) limit 1) u on true
      ), shaped as (
        select *, case when r_stage < 0.85 and filed_on + 120 < current_date then filed_on + floor(r_days * 110)::int end as decided_on
        from base
      ), staged as (
        select *,
               case when decided_on is null then null
                    when r_pen < 0.3 then array['warning']
                    when r_pen < 0.8 then array['fine']
                    when r_pen < 0.9 then array['fine','confiscation_of_gains']
                    when r_pen < 0.95 then array['confiscation_of_property','fine']
                    else array['suspension_order','fine'] end as penalties,
               case when decided_on is not null and r_stage < 0.75 then decided_on + 10 end as executed_on,
               case when decided_on is not null and r_stage < 0.65 then decided_on + 20 end as closed_on
        from shaped
      )
      insert into cases (region_code, external_id, case_number, title, category, source, org_unit_id, handling_officer_ids,
                         filed_on, stage, major, decided_on, penalties, fine_fen, confiscation_fen, executed_on, closed_on,
                         transferred_to, stage_history, legal_reviewed, heaviest_penalty)
      select region_code, 'BENCH-' || i, 'BENCH-' || i, '占道经营', category, 'patrol', unit_id, handlers, filed_on,
             case when closed_on is not null then 'closed' when executed_on is not null then 'executed'
                  when decided_on is not null then 'decided' when r_stage > 0.97 then 'transferred'
                  when r_stage > 0.95 then 'terminated' else 'investigating' end,
             major, decided_on, penalties,
             case when 'fine' = any(penalties) then 10000 + floor(r_days * 5000000)::bigint end,
             case when 'confiscation_of_gains' = any(penalties) then floor(r_days * 2000000)::bigint end,
             executed_on, closed_on,
             case when decided_on is null and r_stage > 0.97 then '公安机关' end,
             '[]'::jsonb, major and decided_on is not null,
             case when penalties is null then null when 'suspension_order' = any(penalties) then 'suspension_order'
                  when 'confiscation_of_property' = any(penalties) then 'confiscation_of_property'
                  when 'confiscation_of_gains' = any(penalties) then 'confiscation_of_gains'
                  else penalties[1] end
      from staged`,
      [start, n, fromDate, toDate],
    );
    process.stdout.write(`  cases ${start + n}/${count}\n`);
  }
}
