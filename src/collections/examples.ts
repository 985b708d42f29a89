/**
 * Realistic, valid example bodies of every collection, kept in one place by collection name. The OpenAPI
 * document, the Postman collection and the typed client's example sync use them; a test validates each
 * against its collection's schemas and fails when a registered collection has none.
 *
 * The records hang together as a Zhengzhou (郑州, 410100) platform would send them: a city detachment,
 * an officer in it (ID number 410105… — 金水区, check digit per GB 11643), and that officer's credential.
 * Later collections refer to these by their external keys.
 */

export interface CollectionExample {
  /** The caller's key of the record `upsert` describes: `PUT /v1/<c>/external/{regionCode}/{externalId}`. */
  key: { regionCode: string; externalId: string };
  /** Body of the upsert by key (region and key come from the path). */
  upsert: Record<string, unknown>;
  /** Body of `POST /v1/<c>`: a second record, with its own key and unique values. */
  create: Record<string, unknown> & { regionCode: string; externalId: string };
  /** A JSON merge patch of the first record. */
  patch: Record<string, unknown>;
}

export const REGION = '410100';

const EXAMPLES: Record<string, CollectionExample> = {
  'org-units': {
    key: { regionCode: REGION, externalId: 'ZZ-ORG-0001' },
    upsert: {
      name: '郑州市城市管理综合执法支队',
      level: 'city',
      unifiedSocialCreditCode: '11410100416002157K',
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-ORG-0002',
      name: '郑州市金水区城市管理综合执法大队',
      level: 'county',
      unifiedSocialCreditCode: '11410105416073182W',
      parentExternalId: 'ZZ-ORG-0001',
    },
    patch: { name: '郑州市城市管理局综合执法支队' },
  },
  officers: {
    key: { regionCode: REGION, externalId: 'ZZ-OFF-0001' },
    upsert: {
      name: '王建国',
      gender: '1',
      idCardNumber: '410105198503150036',
      birthDate: '1985-03-15',
      ethnicity: '01',
      politicalStatus: '01',
      education: '21',
      phone: '13838123456',
      orgUnitExternalId: 'ZZ-ORG-0001',
      position: '中队长',
      rank: '一级行政执法员',
      cadreLevel: 'section',
      staffingType: 'civil_servant',
      hireDate: '2008-07-01',
      employmentStatus: 'active',
      badgeNumber: '410100123',
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-OFF-0002',
      name: '李秀梅',
      gender: '2',
      idCardNumber: '410105199007210022',
      birthDate: '1990-07-21',
      ethnicity: '01',
      politicalStatus: '03',
      education: '21',
      phone: '0371-67181234',
      orgUnitExternalId: 'ZZ-ORG-0001',
      position: '执法队员',
      rank: '四级行政执法员',
      cadreLevel: 'none',
      staffingType: 'civil_servant_managed',
      hireDate: '2013-09-01',
      employmentStatus: 'active',
    },
    patch: { phone: '13938123456', position: '副支队长' },
  },
  credentials: {
    key: { regionCode: REGION, externalId: 'ZZ-CRED-0001' },
    upsert: {
      officerExternalId: 'ZZ-OFF-0001',
      credentialNumber: '豫A0100012345',
      kind: 'enforcement',
      issuingAuthority: '河南省人民政府',
      issuedOn: '2024-03-01',
      expiresOn: '2029-02-28',
      status: 'valid',
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-CRED-0002',
      officerExternalId: 'ZZ-OFF-0001',
      credentialNumber: '豫J0100000789',
      kind: 'supervision',
      issuingAuthority: '河南省人民政府',
      issuedOn: '2023-06-15',
      expiresOn: '2028-06-14',
      status: 'valid',
    },
    patch: { status: 'suspended' },
  },
};

/** The examples by collection name. */
export function collectionExamples(): ReadonlyMap<string, CollectionExample> {
  return new Map(Object.entries(EXAMPLES));
}

/** A batch as a platform's nightly sync sends it: the unit, then an officer referring to it by key. */
export const EXAMPLE_BATCH = {
  atomic: false,
  operations: [
    { op: 'upsert', collection: 'org-units', ...EXAMPLES['org-units']!.key, data: EXAMPLES['org-units']!.upsert },
    { op: 'upsert', collection: 'officers', ...EXAMPLES['officers']!.key, data: EXAMPLES['officers']!.upsert },
  ],
};
