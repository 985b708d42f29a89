/**
 * Realistic, valid example bodies of every collection, kept in one place by collection name. The OpenAPI
 * document, the Postman collection and the typed client's example sync use them; a test validates each
 * against its collection's schemas and fails when a registered collection has none.
 *
 * The records hang together as a Zhengzhou (郑州, 410100) platform would send them: a city detachment,
 * an officer in it (ID number 410105… — 金水区, check digit per GB 11643), and that officer's credential.
 * Later collections refer to these by their external keys — always to the first record of a collection (the
 * one upserted by key), since a replay of the Postman collection deletes each collection's second record.
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
  /**
   * Records of other collections these examples need beyond the first record of each (upserted by key
   * before the collection's first request in the Postman collection), e.g. a case's second handler.
   */
  prerequisites?: { collection: string; key: { regionCode: string; externalId: string }; body: Record<string, unknown> }[];
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
    patch: { issuingAuthority: '河南省人民政府法制办公室' },
  },
  'post-statuses': {
    key: { regionCode: REGION, externalId: 'ZZ-POST-0001' },
    upsert: {
      officerExternalId: 'ZZ-OFF-0001',
      status: 'on_duty',
      post: '二七广场巡查岗',
      gridCode: '410103-007-12',
      effectiveFrom: '2026-11-02',
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-POST-0002',
      officerExternalId: 'ZZ-OFF-0001',
      status: 'training',
      post: '市局法制培训班',
      effectiveFrom: '2026-11-09',
    },
    patch: { gridCode: '410103-007-13' },
  },
  equipment: {
    key: { regionCode: REGION, externalId: 'ZZ-EQ-0001' },
    upsert: {
      category: 'vehicle',
      model: '比亚迪秦PLUS 城管执法车',
      serialNumber: 'LGXCE4CB1N0123456',
      orgUnitExternalId: 'ZZ-ORG-0001',
      status: 'in_service',
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-EQ-0002',
      category: 'body_camera',
      model: 'DSJ-Z8 执法记录仪',
      serialNumber: 'ZZBC2026000123',
      orgUnitExternalId: 'ZZ-ORG-0001',
      status: 'in_service',
    },
    patch: { model: '比亚迪秦PLUS DM-i 城管执法车' },
  },
  'equipment-allocations': {
    key: { regionCode: REGION, externalId: 'ZZ-ALLOC-0001' },
    upsert: {
      equipmentExternalId: 'ZZ-EQ-0001',
      holderType: 'officer',
      holderExternalId: 'ZZ-OFF-0001',
      allocatedOn: '2026-11-02',
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-ALLOC-0002',
      equipmentExternalId: 'ZZ-EQ-0001',
      holderType: 'officer',
      holderExternalId: 'ZZ-OFF-0001',
      allocatedOn: '2026-11-21',
    },
    patch: { returnedOn: '2026-11-20' },
  },
  assistants: {
    key: { regionCode: REGION, externalId: 'ZZ-AST-0001' },
    upsert: {
      name: '赵磊',
      gender: '1',
      idCardNumber: '410105199506120179',
      birthDate: '1995-06-12',
      phone: '13703712345',
      orgUnitExternalId: 'ZZ-ORG-0001',
      supervisingOfficerExternalId: 'ZZ-OFF-0001',
      admittedOn: '2024-05-06',
      status: 'active',
      duties: ['patrol', 'dissuasion'],
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-AST-0002',
      name: '孙丽娟',
      gender: '2',
      idCardNumber: '410102199811030242',
      birthDate: '1998-11-03',
      orgUnitExternalId: 'ZZ-ORG-0001',
      supervisingOfficerExternalId: 'ZZ-OFF-0001',
      admittedOn: '2026-09-01',
      status: 'probation',
      duties: ['publicity', 'information_collection'],
    },
    patch: { phone: '13803712345' },
  },
  trainings: {
    key: { regionCode: REGION, externalId: 'ZZ-TRN-0001' },
    upsert: {
      personType: 'officer',
      personExternalId: 'ZZ-OFF-0001',
      kind: 'annual',
      title: '2026年度城市管理执法业务培训',
      organizer: '郑州市城市管理局',
      startedOn: '2026-04-13',
      endedOn: '2026-04-17',
      hours: 40,
      passed: true,
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-TRN-0002',
      personType: 'assistant',
      personExternalId: 'ZZ-AST-0001',
      kind: 'skills',
      title: '协管员文明劝导技能培训',
      organizer: '郑州市城市管理综合执法支队',
      startedOn: '2026-06-08',
      endedOn: '2026-06-09',
      hours: 12,
      passed: true,
    },
    patch: { hours: 36 },
  },
  assessments: {
    key: { regionCode: REGION, externalId: 'ZZ-ASMT-0001' },
    upsert: {
      assistantExternalId: 'ZZ-AST-0001',
      period: '2025',
      result: 'competent',
      note: '年度考核称职',
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-ASMT-0002',
      assistantExternalId: 'ZZ-AST-0001',
      period: '2026-H1',
      result: 'excellent',
      rewards: '通报表扬',
    },
    patch: { result: 'excellent' },
  },
  cases: {
    key: { regionCode: REGION, externalId: 'ZZ-CASE-0001' },
    upsert: {
      caseNumber: '郑城管罚字〔2026〕第00123号',
      title: '未经批准擅自占道经营',
      category: 'city_appearance',
      source: 'patrol',
      orgUnitExternalId: 'ZZ-ORG-0001',
      handlingOfficerExternalIds: ['ZZ-OFF-0001', 'ZZ-OFF-0003'],
      filedOn: '2026-10-12',
      stage: 'filed',
      major: false,
    },
    create: {
      regionCode: REGION,
      externalId: 'ZZ-CASE-0002',
      caseNumber: '郑城管罚字〔2026〕第00124号',
      title: '建筑工地扬尘污染防治措施不到位',
      category: 'dust',
      source: 'complaint',
      orgUnitExternalId: 'ZZ-ORG-0001',
      handlingOfficerExternalIds: ['ZZ-OFF-0001', 'ZZ-OFF-0003'],
      filedOn: '2026-10-20',
      stage: 'investigating',
      major: false,
    },
    patch: { title: '未经批准擅自占道经营（流动摊点）' },
    // A case needs two credentialed handlers; the officers' second example record does not outlive its folder.
    prerequisites: [
      {
        collection: 'officers',
        key: { regionCode: REGION, externalId: 'ZZ-OFF-0003' },
        body: {
          name: '张志强',
          gender: '1',
          idCardNumber: '41010519881124005X',
          birthDate: '1988-11-24',
          orgUnitExternalId: 'ZZ-ORG-0001',
          position: '执法队员',
          cadreLevel: 'none',
          staffingType: 'civil_servant',
          employmentStatus: 'active',
        },
      },
      {
        collection: 'credentials',
        key: { regionCode: REGION, externalId: 'ZZ-CRED-0003' },
        body: {
          officerExternalId: 'ZZ-OFF-0003',
          credentialNumber: '豫A0100012399',
          kind: 'enforcement',
          issuingAuthority: '河南省人民政府',
          issuedOn: '2025-01-10',
          expiresOn: '2030-01-09',
          status: 'valid',
        },
      },
    ],
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
