/**
 * The rule stage sees a batch as it is being written: records created by earlier operations of the same
 * request (in the same run, or in an earlier run of the same transaction) count for the rules of later ones.
 */
import { describe, expect, it } from 'vitest';
import { bearer, useTestApp } from '../support/context.js';
import type { BatchResultJson } from '../support/fixtures.js';
import { aCredential, anOfficer, anOrgUnit, put } from '../support/people-fixtures.js';

const ctx = useTestApp();

async function batch(region: string, operations: object[]) {
  const res = await ctx.app.inject({ method: 'POST', url: '/v1/batch', headers: await bearer({ region }), payload: { operations } });
  expect(res.statusCode).toBe(200);
  return res.json<{ results: BatchResultJson[] }>().results;
}

describe('set-wise rules in a batch', () => {
  it('a credential is checked against the officer created by an earlier operation of the same batch', async () => {
    const region = '411301';
    await put(ctx.app, 'org-units', region, 'U', anOrgUnit());
    const results = await batch(region, [
      { op: 'upsert', collection: 'officers', regionCode: region, externalId: 'O1', data: anOfficer({ orgUnitExternalId: 'U', staffingType: 'contract' }) },
      { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'C1', data: aCredential({ officerExternalId: 'O1' }) },
    ]);
    expect(results.map((r) => r.status)).toEqual([201, 422]);
    expect(results[1]!.error).toMatchObject({ code: 'rule_violation', errors: [{ path: '/operations/1/data/kind' }] });
  });

  it('two overlapping valid credentials in one run: the second is refused as clashing with an earlier record of the request', async () => {
    const region = '411302';
    const unit = await put(ctx.app, 'org-units', region, 'U', anOrgUnit());
    const officer = await put(ctx.app, 'officers', region, 'O', anOfficer({ orgUnitId: unit.id }));
    const results = await batch(region, [
      { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'C1', data: aCredential({ officerId: officer.id }) },
      { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'C2', data: aCredential({ officerId: officer.id }) },
      // Another kind for the same officer in the same run is fine.
      { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'C3', data: aCredential({ officerId: officer.id, kind: 'supervision' }) },
    ]);
    expect(results.map((r) => r.status)).toEqual([201, 422, 201]);
    expect(results[1]!.error).toMatchObject({ code: 'rule_violation', errors: [{ path: '/operations/1/data/status' }] });
    expect(JSON.stringify(results[1]!.error)).toContain('earlier record in this request');
  });

  it('a later run of the same batch sees what an earlier run wrote', async () => {
    const region = '411303';
    const unit = await put(ctx.app, 'org-units', region, 'U', anOrgUnit());
    const officer = await put(ctx.app, 'officers', region, 'O', anOfficer({ orgUnitId: unit.id }));
    await put(ctx.app, 'org-units', region, 'GONE', anOrgUnit());
    const first = aCredential({ officerId: officer.id });
    const results = await batch(region, [
      { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'C1', data: first },
      // A delete ends the run: the next credential is checked by a query that must see C1.
      { op: 'delete', collection: 'org-units', regionCode: region, externalId: 'GONE' },
      { op: 'upsert', collection: 'credentials', regionCode: region, externalId: 'C2', data: aCredential({ officerId: officer.id }) },
    ]);
    expect(results.map((r) => r.status)).toEqual([201, 204, 422]);
    expect(JSON.stringify(results[2]!.error)).toContain(first.credentialNumber);
  });

  it('a later operation may take an ID number that an earlier operation of the batch released', async () => {
    const region = '411304';
    const unit = await put(ctx.app, 'org-units', region, 'U', anOrgUnit());
    const person = anOfficer({ orgUnitId: unit.id });
    await put(ctx.app, 'officers', region, 'OLD', person);
    const results = await batch(region, [
      { op: 'upsert', collection: 'officers', regionCode: region, externalId: 'OLD', data: { ...person, employmentStatus: 'transferred' } },
      { op: 'upsert', collection: 'officers', regionCode: region, externalId: 'NEW', data: person },
      // …but not twice.
      { op: 'upsert', collection: 'officers', regionCode: region, externalId: 'NEWER', data: person },
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 201, 422]);
    expect(results[2]!.error).toMatchObject({ errors: [{ path: '/operations/2/data/idCardNumber' }] });
  });
});
