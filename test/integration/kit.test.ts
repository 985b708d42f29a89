import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRegistryClient } from '../../client/index.js';
import { exampleSync } from '../../client/example-sync.js';
import { collectionExamples } from '../../src/collections/examples.js';
import { collections } from '../../src/collections/index.js';
import { CLIENT_TYPES_FILE, generateClientTypes } from '../../src/kit/client-types.js';
import { generatePostmanCollection, POSTMAN_FILE, serializePostmanCollection } from '../../src/kit/postman.js';
import { buildCollectionSchemas } from '../../src/records/api-schemas.js';
import { token, useTestApp } from '../support/context.js';

const root = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));
const committedDocument = async () => JSON.parse(await readFile(root('openapi/openapi.json'), 'utf8')) as object;

describe('collection examples', () => {
  const examples = collectionExamples();

  it.each(collections.map((def) => [def.name, def] as const))('%s has examples that its schemas accept', (name, def) => {
    const example = examples.get(name);
    expect(example, `src/collections/examples.ts has no example for ${name}`).toBeDefined();
    const schemas = buildCollectionSchemas(def);
    const check = (what: string, schema: typeof schemas.body, value: unknown) => {
      const parsed = schema.safeParse(value);
      expect(parsed.success, `${name} ${what}: ${parsed.error?.message}`).toBe(true);
    };
    check('upsert', schemas.upsertBody, example!.upsert);
    check('create', schemas.body, example!.create);
    check('patched', schemas.body, { ...example!.key, ...example!.upsert, ...example!.patch });
    expect(example!.create.externalId).not.toBe(example!.key.externalId);
    for (const prerequisite of example!.prerequisites ?? []) {
      const other = collections.find((c) => c.name === prerequisite.collection);
      expect(other, `${name} needs unknown collection ${prerequisite.collection}`).toBeDefined();
      check(`prerequisite ${prerequisite.key.externalId}`, buildCollectionSchemas(other!).upsertBody, prerequisite.body);
    }
  });

  it('names no collection that is not registered', () => {
    expect([...examples.keys()].filter((name) => !collections.some((c) => c.name === name))).toEqual([]);
  });
});

describe('typed client (client/)', () => {
  it('is generated from the committed document (npm run client)', async () => {
    const committed = await readFile(root(CLIENT_TYPES_FILE), 'utf8').catch(() => '');
    expect(committed === (await generateClientTypes(await committedDocument())), `${CLIENT_TYPES_FILE} is stale: run npm run client`).toBe(true);
  });

  it('type-checks on its own', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await expect(promisify(execFile)(process.execPath, [tsc, '-p', root('client/tsconfig.json')])).resolves.toBeDefined();
  }, 60_000);
});

describe('Postman collection (postman/)', () => {
  it('is generated from the committed document (npm run postman)', async () => {
    const committed = await readFile(root(POSTMAN_FILE), 'utf8').catch(() => '');
    const fresh = serializePostmanCollection(generatePostmanCollection(await committedDocument()));
    expect(committed === fresh, `${POSTMAN_FILE} is stale: run npm run postman`).toBe(true);
  });
});

describe('against the app listening on 127.0.0.1', () => {
  const ctx = useTestApp();
  let baseUrl: string;
  beforeAll(async () => {
    baseUrl = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  });

  it('the example sync runs with the typed client', async () => {
    const client = createRegistryClient({ baseUrl, token: await token({ region: '410100', scope: 'records:read records:write' }) });
    const first = await exampleSync(client, 25);
    expect(first).toMatchObject({ unitCreated: true, officers: { ok: 25, failed: 0 } });
    expect(first.changes).toBeGreaterThanOrEqual(26);
    const again = await exampleSync(client, 25);
    expect(again).toMatchObject({ unitCreated: false, officers: { ok: 25, failed: 0 } });
    // Nothing changed the second time: the feed read from the end has nothing new.
    let after = 0;
    for await (const page of client.changes({ after: first.cursor! })) after += page.items.length;
    expect(after).toBe(0);
  });

  it('newman replays every request of the Postman collection with its declared success status', async () => {
    const collection = JSON.parse(await readFile(root(POSTMAN_FILE), 'utf8')) as { variable: { key: string; value: string }[] };
    const bearerToken = await token({ region: '410100', scope: 'records:read records:write audit:read stats:read' });
    for (const variable of collection.variable) {
      if (variable.key === 'baseUrl') variable.value = baseUrl;
      if (variable.key === 'token') variable.value = bearerToken;
    }
    const newman = createRequire(import.meta.url)('newman') as {
      run(options: object, callback: (err: Error | null, summary: NewmanSummary) => void): void;
    };
    type NewmanSummary = {
      run: {
        stats: { requests: { total: number; failed: number }; assertions: { total: number; failed: number } };
        failures: { error: { message: string }; source?: { name?: string } }[];
      };
    };
    for (const pass of [1, 2]) {
      const summary = await new Promise<NewmanSummary>((resolve, reject) =>
        newman.run({ collection, reporters: [] }, (err, result) => (err ? reject(err) : resolve(result))),
      );
      const failures = summary.run.failures.map((f) => `${f.source?.name}: ${f.error.message}`);
      expect(failures, `pass ${pass}`).toEqual([]);
      expect(summary.run.stats.requests.total).toBeGreaterThanOrEqual(collections.length * 9 + 5);
      expect(summary.run.stats.assertions.failed).toBe(0);
    }
  }, 60_000);
});
