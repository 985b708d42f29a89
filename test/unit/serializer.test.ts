import fastJson from 'fast-json-stringify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { officersCollection } from '../../src/collections/officers.js';
import { withNullableTypes } from '../../src/plugins/serializer.js';
import { buildCollectionSchemas } from '../../src/records/api-schemas.js';

const officer = {
  id: '0046f2a8-a691-4c61-a7ba-4ff19f216b09',
  externalId: null,
  regionCode: '410105',
  version: 3,
  createdAt: '2026-11-28T06:41:27.585Z',
  updatedAt: '2026-11-28T06:41:27.585Z',
  name: '冯倩月',
  gender: '2',
  idCardNumber: '410***********5844',
  birthDate: null,
  ethnicity: '01',
  politicalStatus: null,
  education: '31',
  phone: null,
  position: '执法队员',
  rank: null,
  cadreLevel: 'none',
  staffingType: 'public_institution',
  hireDate: '2014-01-15',
  employmentStatus: 'active',
  badgeNumber: null,
  orgUnitId: '01b9e7c1-b2bb-4382-a4a2-1a579eeccfe5',
  orgUnitExternalId: null,
  summary: {
    holdsValidCredential: true,
    credentials: [
      { id: '17586385-477b-47eb-b124-04a98aa1a2d0', credentialNumber: 'ZF1', kind: 'enforcement', status: 'valid', effectiveStatus: 'valid', expiresOn: '2031-10-02' },
    ],
    currentPostStatus: null,
    equipment: [],
  },
};

describe('response serializer', () => {
  const schema = buildCollectionSchemas(officersCollection).page;
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'output', unrepresentable: 'throw', reused: 'inline' });
  const stringify = fastJson(withNullableTypes(json) as Parameters<typeof fastJson>[0]);

  it('writes nullable fields as JSON.stringify does, null or not', () => {
    expect(JSON.parse(stringify({ items: [officer], nextCursor: null }))).toEqual({ items: [officer], nextCursor: null });
    const onDuty = {
      ...officer,
      phone: '138****5678',
      summary: {
        ...officer.summary,
        currentPostStatus: { id: '9c053622-5967-46b4-8dfb-0fb8689aa5b0', status: 'on_duty', post: null, gridCode: null, effectiveFrom: '2026-10-29' },
      },
    };
    expect(JSON.parse(stringify({ items: [onDuty], nextCursor: 'c' }))).toEqual({ items: [onDuty], nextCursor: 'c' });
  });

  it('leaves no anyOf in an officer page (each would be validated on every response)', () => {
    const text = JSON.stringify(withNullableTypes(json));
    expect(text).not.toContain('"anyOf"');
  });

  it('still writes only declared fields', () => {
    expect(JSON.parse(stringify({ items: [{ ...officer, idCardNumberCipher: 'secret' }], nextCursor: null })).items[0]).not.toHaveProperty('idCardNumberCipher');
  });
});
