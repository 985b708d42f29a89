import pg from 'pg';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/cpu_keep' });
await c.connect();
pg.types.setTypeParser(114, (t: string) => t);
const { rows } = await c.query(`select
 (select coalesce(json_agg(json_build_object('id', c.id, 'credentialNumber', c.credential_number, 'kind', c.kind, 'status', c.status, 'issuedOn', c.issued_on, 'expiresOn', c.expires_on)), '[]'::json) from credentials c where c.officer_id = o.id) as cr,
 (select json_build_object('id', p.id, 'status', p.status, 'post', p.post, 'gridCode', p.grid_code, 'effectiveFrom', p.effective_from) from post_statuses p where p.officer_id = o.id order by effective_from desc limit 1) as ps,
 (select coalesce(json_agg(json_build_object('allocationId', a.id, 'equipmentId', a.equipment_id, 'category', 'x', 'model', 'm', 'serialNumber', 's', 'allocatedOn', a.allocated_on)), '[]'::json) from equipment_allocations a where a.holder_id = o.id) as eq
 from officers o where region_code between '410100' and '410199' limit 50`);
await c.end();
const today = '2026-11-28';
const N = 2000;
let t0 = performance.now(); let sink = 0;
for (let i = 0; i < N; i++) {
  for (const r of rows) {
    const cr = JSON.parse(r.cr), ps = r.ps ? JSON.parse(r.ps) : null, eq = JSON.parse(r.eq);
    const summary = { holdsValidCredential: cr.some((x: any) => x.kind === 'enforcement' && x.status === 'valid' && x.issuedOn <= today && today <= x.expiresOn),
      credentials: cr.map((x: any) => ({ id: x.id, credentialNumber: x.credentialNumber, kind: x.kind, status: x.status, effectiveStatus: x.status, expiresOn: x.expiresOn })),
      currentPostStatus: ps, equipment: eq };
    sink += JSON.stringify(summary).length;
  }
}
console.log('parse+compute+stringify per page µs', ((performance.now() - t0) * 1000 / N).toFixed(0), 'bytes/page', sink / N);
t0 = performance.now(); sink = 0;
for (let i = 0; i < N; i++) for (const r of rows) sink += (`{"holdsValidCredential":true,"credentials":${r.cr},"currentPostStatus":${r.ps ?? 'null'},"equipment":${r.eq}}`).length;
console.log('raw concat per page µs', ((performance.now() - t0) * 1000 / N).toFixed(0));
