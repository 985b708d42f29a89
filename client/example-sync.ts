/**
 * A platform's sync in a few lines, with the typed client: push an org unit and its officers by the
 * platform's own keys, then read the change feed back. Run it against a running service:
 *
 *   REGISTRY_URL=http://127.0.0.1:3000 REGISTRY_TOKEN=$(npm run -s token -- --region 410100 --scope "records:read records:write") \
 *     npx tsx client/example-sync.ts
 */
import { createRegistryClient, type BatchOperation, type RegistryClient } from './index.js';

/** GB 11643 check character of a 17-digit ID number body. */
function idCardNumber(first17: string): string {
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, digit, i) => acc + Number(digit) * weights[i]!, 0);
  return first17 + '10X98765432'[sum % 11]!;
}

export interface SyncSummary {
  unitCreated: boolean;
  officers: { ok: number; failed: number };
  changes: number;
  cursor: string | undefined;
}

export async function exampleSync(client: RegistryClient, officerCount = 25): Promise<SyncSummary> {
  const regionCode = '410100';
  const unit = await client.upsert(
    'org-units',
    { regionCode, externalId: 'ZZ-SYNC-UNIT' },
    { name: '郑州市城市管理综合执法支队二大队', level: 'county' },
  );

  const operations: BatchOperation[] = Array.from({ length: officerCount }, (_, i) => {
    const birthDate = `1988-05-${String(1 + (i % 28)).padStart(2, '0')}`;
    const sequence = String(101 + 2 * i).padStart(3, '0'); // odd: men
    return {
      op: 'upsert',
      collection: 'officers',
      regionCode,
      externalId: `ZZ-SYNC-OFF-${i + 1}`,
      data: {
        name: `执法队员${i + 1}`,
        gender: '1',
        idCardNumber: idCardNumber(`410105${birthDate.replaceAll('-', '')}${sequence}`),
        birthDate,
        orgUnitExternalId: 'ZZ-SYNC-UNIT',
        cadreLevel: 'none',
        staffingType: 'civil_servant',
        employmentStatus: 'active',
      },
    };
  });
  const results = await client.batch(operations, 10);
  const failed = results.filter((r) => r.status >= 400);
  for (const r of failed) console.error(`operation ${r.index}: ${r.error?.code} ${r.error?.detail ?? ''}`);

  let changes = 0;
  let cursor: string | undefined;
  for await (const page of client.changes({ collections: ['org-units', 'officers'] })) {
    changes += page.items.length;
    cursor = page.nextCursor;
  }
  return { unitCreated: unit.created, officers: { ok: results.length - failed.length, failed: failed.length }, changes, cursor };
}

const isMain = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const baseUrl = process.env['REGISTRY_URL'] ?? 'http://127.0.0.1:3000';
  const token = process.env['REGISTRY_TOKEN'];
  if (!token) throw new Error('set REGISTRY_TOKEN (npm run -s token -- --region 410100 --scope "records:read records:write")');
  const summary = await exampleSync(createRegistryClient({ baseUrl, token }));
  console.log(JSON.stringify(summary, null, 2));
}
