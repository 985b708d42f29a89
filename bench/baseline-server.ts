// Child process of `npm run bench`: the read baseline. A minimal Fastify app on 127.0.0.1 answering the same two
// reads as GET /v1/officers/{id} and GET /v1/officers?regionCode=&employmentStatus=&limit= with raw `pg` named
// prepared statements: the same SQL the app sends (the officer row with its unit's key, then the credentials for
// the summary), the personal fields decrypted and masked with the same cipher, the rows rendered to the same JSON
// field names. No token check, no zod, no generic record machinery: the floor the app is measured against.
// Beside it, the "plain" routes (/plain/…): the stored row as it is, one statement, no decryption, no masking, no
// summary, no auth — what a hand-written or auto-generated REST layer (Platformatic DB) over the same table serves.
import Fastify from 'fastify';
import pg from 'pg';
import { coveragePrefix } from '../src/domain/region.js';
import { maskIdCard, maskPhone } from '../src/domain/masking.js';
import { createPiiCipher } from '../src/security/pii.js';

// The same DATE handling as the app: plain YYYY-MM-DD strings.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

const OFFICER_SELECT = `select "id", "region_code", "external_id", "version", "created_at", "updated_at", "deleted_at", "name", "gender",
  "id_card_number_cipher", "id_card_number_hash", "birth_date", "ethnicity", "political_status", "education", "phone_cipher",
  "phone_hash", "org_unit_id", "position", "rank", "cadre_level", "staffing_type", "hire_date", "employment_status", "badge_number",
  (select r.external_id from "org_units" as r where r.id = "officers"."org_unit_id") as "orgUnitExternalId"
  from "officers"`;

const BY_ID = {
  name: 'bench_officer_by_id',
  text: `${OFFICER_SELECT} where (("officers"."id" = $1 and "officers"."deleted_at" is null) and "officers"."region_code" between $2 and $3)`,
};
const LIST = {
  name: 'bench_officer_list',
  text: `${OFFICER_SELECT} where ("officers"."deleted_at" is null and ("officers"."region_code" between $1 and $2 and "officers"."region_code" between $3 and $4) and "officers"."employment_status" = $5) order by "officers"."id" limit $6`,
};
const CREDENTIALS = {
  name: 'bench_credentials_of',
  text: `select "id", "officer_id", "credential_number", "kind", "status", "issued_on", "expires_on" from "credentials"
    where ("credentials"."officer_id" = any($1::uuid[]) and "credentials"."deleted_at" is null)
    order by "credentials"."expires_on" desc, "credentials"."id" asc`,
};

const PLAIN_BY_ID = { name: 'bench_plain_by_id', text: `select * from "officers" where "id" = $1 and "deleted_at" is null` };
const PLAIN_LIST = {
  name: 'bench_plain_list',
  text: `select * from "officers" where "deleted_at" is null and "region_code" between $1 and $2 and "employment_status" = $3 order by "id" limit $4`,
};

type Row = Record<string, unknown>;

function range(region: string): [string, string] {
  const prefix = coveragePrefix(region);
  return [prefix.padEnd(6, '0'), prefix.padEnd(6, '9')];
}

async function main() {
  const url = process.env['DATABASE_URL'];
  const key = process.env['PII_ENCRYPTION_KEY'];
  if (!url || !key) throw new Error('baseline server needs DATABASE_URL and PII_ENCRYPTION_KEY');
  const callerRegion = process.env['BENCH_CALLER_REGION'] ?? '410000';
  const cipher = createPiiCipher(key);
  const pool = new pg.Pool({ connectionString: url, max: Number(process.env['DB_POOL_MAX'] ?? 10), application_name: 'bench-baseline' });
  pool.on('error', () => {});
  const today = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

  function render(row: Row, credentials: Row[], day: string) {
    const idCard = typeof row['id_card_number_cipher'] === 'string' ? maskIdCard(cipher.decrypt(row['id_card_number_cipher'])) : null;
    const phone = typeof row['phone_cipher'] === 'string' ? maskPhone(cipher.decrypt(row['phone_cipher'])) : null;
    return {
      id: row['id'],
      externalId: row['external_id'],
      regionCode: row['region_code'],
      version: row['version'],
      createdAt: (row['created_at'] as Date).toISOString(),
      updatedAt: (row['updated_at'] as Date).toISOString(),
      name: row['name'],
      gender: row['gender'],
      idCardNumber: idCard,
      birthDate: row['birth_date'],
      ethnicity: row['ethnicity'],
      politicalStatus: row['political_status'],
      education: row['education'],
      phone,
      position: row['position'],
      rank: row['rank'],
      cadreLevel: row['cadre_level'],
      staffingType: row['staffing_type'],
      hireDate: row['hire_date'],
      employmentStatus: row['employment_status'],
      badgeNumber: row['badge_number'],
      orgUnitId: row['org_unit_id'],
      orgUnitExternalId: row['orgUnitExternalId'],
      summary: {
        holdsValidCredential: credentials.some(
          (c) => c['kind'] === 'enforcement' && c['status'] === 'valid' && String(c['issued_on']) <= day && day <= String(c['expires_on']),
        ),
        credentials: credentials.map((c) => ({
          id: c['id'],
          credentialNumber: c['credential_number'],
          kind: c['kind'],
          status: c['status'],
          effectiveStatus: c['status'] === 'valid' && String(c['expires_on']) < day ? 'expired' : c['status'],
          expiresOn: c['expires_on'],
        })),
        currentPostStatus: null,
      },
    };
  }

  async function withCredentials(rows: Row[]) {
    const day = today();
    const ids = rows.map((r) => r['id']);
    const { rows: creds } = ids.length > 0 ? await pool.query({ ...CREDENTIALS, values: [ids] }) : { rows: [] as Row[] };
    const byOfficer = new Map<unknown, Row[]>();
    for (const c of creds as Row[]) {
      const list = byOfficer.get(c['officer_id']);
      if (list) list.push(c);
      else byOfficer.set(c['officer_id'], [c]);
    }
    return rows.map((r) => render(r, byOfficer.get(r['id']) ?? [], day));
  }

  const app = Fastify({ logger: false });
  app.get<{ Params: { id: string } }>('/baseline/officers/:id', async (request, reply) => {
    const [low, high] = range(callerRegion);
    const { rows } = await pool.query({ ...BY_ID, values: [request.params.id, low, high] });
    if (rows.length === 0) return reply.code(404).send({ code: 'not_found' });
    const [record] = await withCredentials(rows as Row[]);
    reply.header('etag', `"${String(rows[0]?.version)}"`);
    return record;
  });
  app.get<{ Querystring: { regionCode?: string; employmentStatus?: string; limit?: string } }>('/baseline/officers', async (request) => {
    const limit = Math.min(Number(request.query.limit ?? 50), 500);
    const [low, high] = range(callerRegion);
    const [fLow, fHigh] = range(request.query.regionCode ?? callerRegion);
    const { rows } = await pool.query({ ...LIST, values: [low, high, fLow, fHigh, request.query.employmentStatus ?? 'active', limit + 1] });
    const page = (rows as Row[]).slice(0, limit);
    return { items: await withCredentials(page), nextCursor: rows.length > limit ? 'more' : null };
  });

  app.get<{ Params: { id: string } }>('/plain/officers/:id', async (request, reply) => {
    const { rows } = await pool.query({ ...PLAIN_BY_ID, values: [request.params.id] });
    if (rows.length === 0) return reply.code(404).send({ code: 'not_found' });
    return rows[0];
  });
  app.get<{ Querystring: { regionCode?: string; employmentStatus?: string; limit?: string } }>('/plain/officers', async (request) => {
    const limit = Math.min(Number(request.query.limit ?? 50), 500);
    const [fLow, fHigh] = range(request.query.regionCode ?? callerRegion);
    const { rows } = await pool.query({ ...PLAIN_LIST, values: [fLow, fHigh, request.query.employmentStatus ?? 'active', limit] });
    return { items: rows };
  });

  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no TCP address');
  const stop = async () => {
    await app.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench baseline server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
