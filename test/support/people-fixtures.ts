import type { App } from '../../src/app.js';
import { addDays, todayInShanghai } from '../../src/domain/dates.js';
import { idCardCheckChar, makeIdCardNumber } from '../../src/domain/id-card.js';
import { bearer } from './context.js';

// Small factories of valid request bodies. Every call gives a new ID number and credential number, so
// tests sharing one database (one file) never collide on the "unique among active people" rule.

let serial = 0;

export const today = () => todayInShanghai();
export const daysFromToday = (days: number) => addDays(todayInShanghai(), days);

export interface Identity {
  idCardNumber: string;
  birthDate: string;
  gender: '1' | '2';
}

/** A fresh valid ID number (GB 11643) with the birth date and gender it encodes. */
export function anIdentity(options: { gender?: '1' | '2'; birthDate?: string; addressCode?: string } = {}): Identity {
  const n = serial++;
  const gender = options.gender ?? (n % 2 === 0 ? '1' : '2');
  const birthDate = options.birthDate ?? addDays('1975-01-01', Math.floor(n / 500));
  const sequence = (n % 500) * 2 + (gender === '1' ? 1 : 0);
  return { idCardNumber: makeIdCardNumber({ addressCode: options.addressCode ?? '410105', birthDate, sequence }), birthDate, gender };
}

/** A valid ID number whose check character is X (to test that a lowercase x is accepted). */
export function anIdentityEndingInX(): Identity {
  for (;;) {
    const identity = anIdentity();
    if (identity.idCardNumber.endsWith('X')) return identity;
  }
}

/** 17 digits and a check character: for numbers that are wrong on purpose (the check character made right). */
export function withCheckChar(first17: string): string {
  return first17 + idCardCheckChar(first17);
}

/** 17 digits and a check character that is wrong for them. */
export function withWrongCheckChar(first17: string): string {
  return first17 + (idCardCheckChar(first17) === '0' ? '1' : '0');
}

export interface OrgUnitBody {
  regionCode?: string;
  externalId?: string;
  name: string;
  level: 'province' | 'city' | 'county' | 'street';
  parentId?: string | null;
}

export function anOrgUnit(overrides: Partial<OrgUnitBody> = {}): OrgUnitBody {
  return { name: '郑州市城市管理综合执法支队', level: 'city', ...overrides };
}

export interface OfficerBody {
  regionCode?: string;
  externalId?: string;
  name: string;
  gender: string;
  idCardNumber: string;
  birthDate: string;
  ethnicity?: string | null;
  politicalStatus?: string | null;
  education?: string | null;
  phone?: string | null;
  orgUnitId?: string | null;
  orgUnitExternalId?: string | null;
  position?: string | null;
  rank?: string | null;
  cadreLevel: 'none' | 'section' | 'division_or_above';
  staffingType: 'civil_servant' | 'civil_servant_managed' | 'public_institution' | 'contract';
  hireDate?: string | null;
  employmentStatus: 'active' | 'transferred' | 'retired' | 'resigned' | 'dismissed';
  badgeNumber?: string | null;
}

/** A valid officer body; give `orgUnitId` or `orgUnitExternalId`. */
export function anOfficer(overrides: Partial<OfficerBody> = {}): OfficerBody {
  const identity = anIdentity(overrides.gender === '1' || overrides.gender === '2' ? { gender: overrides.gender } : {});
  return {
    name: '张伟',
    ...identity,
    ethnicity: '01',
    politicalStatus: '01',
    education: '21',
    phone: `139${String(10_000_000 + serial).slice(-8)}`,
    position: '中队长',
    rank: '一级行政执法员',
    cadreLevel: 'section',
    staffingType: 'civil_servant',
    hireDate: '2010-07-01',
    employmentStatus: 'active',
    badgeNumber: `4101${String(100_000 + serial)}`,
    ...overrides,
  };
}

export interface CredentialBody {
  regionCode?: string;
  externalId?: string;
  officerId?: string | null;
  officerExternalId?: string | null;
  credentialNumber: string;
  kind: 'enforcement' | 'supervision';
  issuingAuthority: string;
  issuedOn: string;
  expiresOn: string;
  status: 'valid' | 'suspended' | 'revoked' | 'lost';
}

/** A valid enforcement credential, in force from a year ago until four years from today. */
export function aCredential(overrides: Partial<CredentialBody> = {}): CredentialBody {
  return {
    credentialNumber: `豫执${String(4_100_000_000 + serial++)}`,
    kind: 'enforcement',
    issuingAuthority: '河南省人民政府',
    issuedOn: daysFromToday(-365),
    expiresOn: daysFromToday(4 * 365),
    status: 'valid',
    ...overrides,
  };
}

/** PUT /v1/<collection>/external/<region>/<key> with a full-scope token of that region; returns the record. */
export async function put(
  app: App,
  collection: string,
  regionCode: string,
  externalId: string,
  body: object,
): Promise<{ id: string; version: number } & Record<string, unknown>> {
  const res = await app.inject({
    method: 'PUT',
    url: `/v1/${collection}/external/${regionCode}/${externalId}`,
    headers: await bearer({ region: regionCode }),
    payload: body,
  });
  if (res.statusCode !== 200 && res.statusCode !== 201) {
    throw new Error(`PUT ${collection} ${regionCode}/${externalId} answered ${res.statusCode}: ${res.body}`);
  }
  return res.json();
}

/** An org unit, an active officer in it and (unless `credential: false`) a valid enforcement credential. */
export async function seedOfficer(
  app: App,
  regionCode: string,
  key: string,
  options: { officer?: Partial<OfficerBody>; credential?: Partial<CredentialBody> | false } = {},
) {
  const unit = await put(app, 'org-units', regionCode, `${key}-OU`, anOrgUnit());
  const officer = await put(app, 'officers', regionCode, key, anOfficer({ orgUnitId: unit.id, ...options.officer }));
  const credential =
    options.credential === false
      ? undefined
      : await put(app, 'credentials', regionCode, `${key}-C`, aCredential({ officerId: officer.id, ...options.credential }));
  return { unit, officer, credential };
}

export type Duty = 'publicity' | 'patrol' | 'information_collection' | 'dissuasion';

export interface AssistantBody {
  regionCode?: string;
  externalId?: string;
  name: string;
  gender: string;
  idCardNumber: string;
  birthDate: string;
  phone?: string | null;
  orgUnitId?: string | null;
  orgUnitExternalId?: string | null;
  supervisingOfficerId?: string | null;
  supervisingOfficerExternalId?: string | null;
  admittedOn: string;
  status: 'probation' | 'active' | 'dismissed';
  duties: Duty[] | string[];
}

/** A valid active assistant body; give the unit and the supervising officer. */
export function anAssistant(overrides: Partial<AssistantBody> = {}): AssistantBody {
  const identity = anIdentity(overrides.gender === '1' || overrides.gender === '2' ? { gender: overrides.gender } : {});
  return {
    name: '李协管',
    ...identity,
    phone: `137${String(10_000_000 + serial).slice(-8)}`,
    admittedOn: '2023-03-01',
    status: 'active',
    duties: ['patrol', 'dissuasion'],
    ...overrides,
  };
}

export interface EquipmentBody {
  regionCode?: string;
  externalId?: string;
  category: 'vehicle' | 'body_camera' | 'handheld_terminal' | 'radio' | 'uniform' | 'protective' | 'other';
  model: string;
  serialNumber: string;
  orgUnitId?: string | null;
  orgUnitExternalId?: string | null;
  status: 'in_service' | 'maintenance' | 'retired' | 'lost';
}

/** An in-service body camera with a fresh serial number; give the owning unit. */
export function anEquipment(overrides: Partial<EquipmentBody> = {}): EquipmentBody {
  return { category: 'body_camera', model: 'DSJ-T8', serialNumber: `SN${String(100_000_000 + serial++)}`, status: 'in_service', ...overrides };
}

export interface AllocationBody {
  regionCode?: string;
  externalId?: string;
  equipmentId?: string | null;
  equipmentExternalId?: string | null;
  holderType: 'officer' | 'assistant';
  holderId?: string | null;
  holderExternalId?: string | null;
  allocatedOn: string;
  returnedOn?: string | null;
}

/** An open allocation to an officer since a month ago; give the item and the holder. */
export function anAllocation(overrides: Partial<AllocationBody> = {}): AllocationBody {
  return { holderType: 'officer', allocatedOn: daysFromToday(-30), ...overrides };
}

/** An org unit, an active officer (with a valid enforcement credential) and an active assistant under that officer. */
export async function seedAssistant(app: App, regionCode: string, key: string, assistant: Partial<AssistantBody> = {}) {
  const seeded = await seedOfficer(app, regionCode, `${key}-SUP`);
  const record = await put(
    app,
    'assistants',
    regionCode,
    key,
    anAssistant({ orgUnitId: seeded.unit.id, supervisingOfficerId: seeded.officer.id, ...assistant }),
  );
  return { ...seeded, assistant: record };
}
