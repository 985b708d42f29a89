import { describe, expect, it } from 'vitest';
import { checkCreditCode } from '../../src/domain/credit-code.js';
import { addDays } from '../../src/domain/dates.js';
import { checkIdCardNumber, sexFromIdCard } from '../../src/domain/id-card.js';
import { covers } from '../../src/domain/region.js';
import {
  demoDataset,
  demoOrgUnits,
  generateOfficers,
  officerChunks,
  officerOps,
  type UpsertOperation,
} from '../../src/demo/generator.js';

const TODAY = '2026-03-15';
const dataset = demoDataset({ seed: 42, officers: 300, today: TODAY });
const byKey = (ops: UpsertOperation[]) => new Map(ops.map((op) => [`${op.regionCode}/${op.externalId}`, op]));
const str = (op: UpsertOperation, field: string) => op.data[field] as string;

describe('demo data generator', () => {
  it('makes ~300 officers in Zhengzhou, its districts and two other Henan cities', () => {
    expect(dataset.officers).toHaveLength(300);
    const regions = new Set(dataset.officers.map((o) => o.regionCode));
    for (const code of ['410100', '410102', '410103', '410105', '410300', '410700']) {
      expect([...regions].some((r) => covers(code, r)), code).toBe(true);
    }
    const zhengzhou = dataset.officers.filter((o) => covers('410100', o.regionCode)).length;
    expect(zhengzhou).toBeGreaterThan(120);
    expect(zhengzhou).toBeLessThan(260);
  });

  it('gives every officer a valid ID number whose parity matches the gender and whose birth date is birthDate', () => {
    for (const officer of dataset.officers) {
      const id = str(officer, 'idCardNumber');
      const check = checkIdCardNumber(id, TODAY);
      expect(check, id).toMatchObject({ ok: true });
      if (!check.ok) continue;
      expect(check.birthDate).toBe(officer.data['birthDate']);
      expect(sexFromIdCard(id)).toBe(officer.data['gender'] === '1' ? 'male' : 'female');
      expect(check.birthDate >= '1965-01-01' && check.birthDate <= '2000-12-31').toBe(true);
      expect(id.slice(0, 4)).toBe(officer.regionCode.slice(0, 4)); // born in the officer's city
    }
  });

  it('never repeats an ID number, a key or a badge number — also across slices of a large set', () => {
    const units = demoOrgUnits();
    const a = officerOps({ seed: 7, count: 5000, workplaces: units.workplaces });
    const b = officerOps({ seed: 7, start: 5000, count: 5000, workplaces: units.workplaces });
    const all = [...a, ...b, ...dataset.officers];
    const ids = new Set(all.map((o) => str(o, 'idCardNumber')));
    expect(ids.size).toBe(all.length);
    const keys = new Set([...a, ...b].map((o) => `${o.regionCode}/${o.externalId}`));
    expect(keys.size).toBe(10_000);
    const badges = new Set([...a, ...b].map((o) => str(o, 'badgeNumber')));
    expect(badges.size).toBe(10_000);
  });

  it('keeps fields inside their code tables and patterns', () => {
    for (const o of dataset.officers) {
      expect(o.externalId).toMatch(/^(ZZ|LY|XX)-OFF-\d{6}$/);
      expect(['1', '2']).toContain(o.data['gender']);
      expect(['none', 'section', 'division_or_above']).toContain(o.data['cadreLevel']);
      expect(['civil_servant', 'civil_servant_managed', 'public_institution', 'contract']).toContain(o.data['staffingType']);
      expect(['active', 'transferred', 'retired', 'resigned', 'dismissed']).toContain(o.data['employmentStatus']);
      if (o.data['phone'] !== undefined) expect(o.data['phone']).toMatch(/^1[3-9]\d{9}$/);
      if (o.data['ethnicity'] !== undefined) expect(o.data['ethnicity']).toMatch(/^\d{2}$/);
      if (o.data['politicalStatus'] !== undefined) expect(o.data['politicalStatus']).toMatch(/^\d{2}$/);
      if (o.data['education'] !== undefined) expect(o.data['education']).toMatch(/^[1-9]\d$/);
      expect(o.data['badgeNumber']).toMatch(/^[0-9A-Z]{4,20}$/);
      expect(str(o, 'name')).toMatch(/^[\u4e00-\u9fff]{2,3}$/);
      expect(str(o, 'hireDate') > addDays(str(o, 'birthDate'), 18 * 365)).toBe(true);
      expect(str(o, 'hireDate') <= TODAY).toBe(true);
    }
    const contract = dataset.officers.filter((o) => o.data['staffingType'] === 'contract').length;
    expect(contract).toBeGreaterThan(0);
    expect(contract).toBeLessThan(60);
  });

  it('references org units in the officer’s own region, and links district bureaus to their city bureau', () => {
    const units = byKey(dataset.orgUnits);
    for (const o of dataset.officers) expect(units.has(`${o.regionCode}/${str(o, 'orgUnitExternalId')}`)).toBe(true);
    for (const u of dataset.orgUnits) {
      const parent = u.data['parentExternalId'];
      if (typeof parent === 'string') expect(units.has(`${u.regionCode}/${parent}`)).toBe(true);
      if (u.data['unifiedSocialCreditCode']) expect(checkCreditCode(str(u, 'unifiedSocialCreditCode'))).toEqual({ ok: true });
    }
    expect(dataset.links.length).toBe(6);
    for (const link of dataset.links) {
      expect(units.get(`${link.target.regionCode}/${link.target.externalId}`)?.data['level']).toBe('city');
      expect(covers(link.target.regionCode, link.regionCode)).toBe(true);
    }
  });

  it('never gives contract staff an enforcement credential, and at most one valid credential of a kind per officer', () => {
    const officers = byKey(dataset.officers);
    const validKinds = new Set<string>();
    for (const c of dataset.credentials) {
      const officer = officers.get(`${c.regionCode}/${str(c, 'officerExternalId')}`);
      expect(officer, c.externalId).toBeDefined();
      if (officer?.data['staffingType'] === 'contract') expect(c.data['kind']).not.toBe('enforcement');
      expect(str(c, 'expiresOn') > str(c, 'issuedOn')).toBe(true);
      expect(str(c, 'issuedOn') <= TODAY).toBe(true);
      if (c.data['status'] === 'valid') {
        const key = `${c.regionCode}/${str(c, 'officerExternalId')}/${str(c, 'kind')}`;
        expect(validKinds.has(key), key).toBe(false);
        validKinds.add(key);
      }
    }
    const numbers = new Set(dataset.credentials.map((c) => str(c, 'credentialNumber')));
    expect(numbers.size).toBe(dataset.credentials.length);
  });

  it('has most credentials valid, some expiring within 60 days, some expired and exactly one suspended', () => {
    const enforcement = dataset.credentials.filter((c) => c.data['kind'] === 'enforcement');
    const valid = enforcement.filter((c) => c.data['status'] === 'valid');
    const expiring = valid.filter((c) => str(c, 'expiresOn') >= TODAY && str(c, 'expiresOn') <= addDays(TODAY, 60));
    const expired = valid.filter((c) => str(c, 'expiresOn') < TODAY);
    expect(valid.length / enforcement.length).toBeGreaterThan(0.7);
    expect(expiring.length).toBeGreaterThanOrEqual(3);
    expect(expired.length).toBeGreaterThanOrEqual(3);
    expect(dataset.credentials.filter((c) => c.data['status'] === 'suspended')).toHaveLength(1);
    expect(dataset.credentials.some((c) => c.data['kind'] === 'supervision')).toBe(true);
  });

  it('is deterministic by seed (and today), and different seeds give different people', () => {
    expect(JSON.stringify(demoDataset({ seed: 42, officers: 300, today: TODAY }))).toBe(JSON.stringify(dataset));
    const other = demoDataset({ seed: 43, officers: 300, today: TODAY });
    expect(other.officers.map((o) => o.data['name'])).not.toEqual(dataset.officers.map((o) => o.data['name']));
    expect(other.orgUnits).toEqual(dataset.orgUnits);
    // Officers do not depend on the day; only credential dates do.
    expect(demoDataset({ seed: 42, officers: 300, today: '2027-01-01' }).officers).toEqual(dataset.officers);
  });

  it('makes any slice of a large set on its own, identical to the same officers made in one go', () => {
    const { workplaces } = demoOrgUnits();
    const whole = generateOfficers({ seed: 'bench', count: 30, workplaces });
    const slice = generateOfficers({ seed: 'bench', start: 20, count: 10, workplaces });
    expect(slice).toEqual(whole.slice(20));
    const prefixed = officerOps({ seed: 'bench', start: 20, count: 1, workplaces, keyPrefix: 'R2-' });
    expect(prefixed[0]?.externalId).toBe(`R2-${whole[20]?.operation.externalId}`);
    const chunks = [...officerChunks({ seed: 'bench', count: 30, workplaces, chunkSize: 7 })];
    expect(chunks.map((c) => c.length)).toEqual([7, 7, 7, 7, 2]);
    expect(chunks.flat()).toEqual(whole.map((o) => o.operation));
  });
});

describe('demo data generator: the records about people', () => {
  const officerOf = byKey(dataset.officers);
  const validPeriods = dataset.credentials.filter((c) => c.data['kind'] === 'enforcement' && c.data['status'] === 'valid');
  const holds = (regionCode: string, key: string, day: string) =>
    validPeriods.some((c) => c.regionCode === regionCode && c.data['officerExternalId'] === key && str(c, 'issuedOn') <= day && day <= str(c, 'expiresOn'));

  it('gives most active officers a current post status, on duty only when active and credentialed that day (持证上岗)', () => {
    const active = dataset.officers.filter((o) => o.data['employmentStatus'] === 'active');
    const withStatus = new Set(dataset.postStatuses.filter((p) => str(p, 'effectiveFrom') <= TODAY).map((p) => `${p.regionCode}/${str(p, 'officerExternalId')}`));
    expect(withStatus.size).toBeGreaterThan(active.length * 0.8);
    const onDuty = dataset.postStatuses.filter((p) => p.data['status'] === 'on_duty');
    expect(onDuty.length).toBeGreaterThan(active.length / 2);
    for (const p of onDuty) {
      expect(officerOf.get(`${p.regionCode}/${str(p, 'officerExternalId')}`)?.data['employmentStatus']).toBe('active');
      expect(holds(p.regionCode, str(p, 'officerExternalId'), str(p, 'effectiveFrom')), p.externalId).toBe(true);
    }
    const days = new Set(dataset.postStatuses.map((p) => `${str(p, 'officerExternalId')}|${str(p, 'effectiveFrom')}`));
    expect(days.size).toBe(dataset.postStatuses.length);
  });

  it('gives assistants valid ID numbers distinct from every officer’s, auxiliary duties, and some units over the ratio of 1', () => {
    const officerIds = new Set(dataset.officers.map((o) => str(o, 'idCardNumber')));
    const perUnit = new Map<string, { assistants: number; officers: number }>();
    for (const a of dataset.assistants) {
      expect(checkIdCardNumber(str(a, 'idCardNumber'), TODAY)).toMatchObject({ ok: true });
      expect(officerIds.has(str(a, 'idCardNumber'))).toBe(false);
      const duties = a.data['duties'] as string[];
      expect(duties.length).toBeGreaterThan(0);
      for (const d of duties) expect(['publicity', 'patrol', 'information_collection', 'dissuasion']).toContain(d);
      const supervisor = officerOf.get(`${a.regionCode}/${str(a, 'supervisingOfficerExternalId')}`);
      expect(supervisor?.data['employmentStatus']).toBe('active');
      const unit = `${a.regionCode}/${str(a, 'orgUnitExternalId')}`;
      const entry = perUnit.get(unit) ?? { assistants: 0, officers: 0 };
      if (a.data['status'] !== 'dismissed') entry.assistants++;
      perUnit.set(unit, entry);
    }
    for (const o of dataset.officers) {
      const entry = perUnit.get(`${o.regionCode}/${str(o, 'orgUnitExternalId')}`);
      if (entry && o.data['employmentStatus'] === 'active') entry.officers++;
    }
    expect(new Set(dataset.assistants.map((a) => str(a, 'idCardNumber'))).size).toBe(dataset.assistants.length);
    const over = [...perUnit.values()].filter((u) => u.officers > 0 && u.assistants > u.officers);
    expect(over.length).toBeGreaterThanOrEqual(2);
    expect(over.length).toBeLessThan(perUnit.size / 2);
  });

  it('allocates in-service items once at a time, body cameras to officers on duty and radios to assistants', () => {
    const items = byKey(dataset.equipment);
    const serials = new Set(dataset.equipment.map((e) => `${str(e, 'category')}|${str(e, 'serialNumber')}`));
    expect(serials.size).toBe(dataset.equipment.length);
    for (const category of ['vehicle', 'body_camera', 'handheld_terminal', 'radio']) {
      expect(dataset.equipment.some((e) => e.data['category'] === category), category).toBe(true);
    }
    const open = dataset.allocations.filter((a) => a.data['returnedOn'] === undefined);
    const openItems = open.map((a) => `${a.regionCode}/${str(a, 'equipmentExternalId')}`);
    expect(new Set(openItems).size).toBe(openItems.length);
    for (const a of open) expect(items.get(`${a.regionCode}/${str(a, 'equipmentExternalId')}`)?.data['status']).toBe('in_service');
    for (const a of dataset.allocations) {
      if (a.data['returnedOn'] !== undefined) expect(str(a, 'returnedOn') >= str(a, 'allocatedOn')).toBe(true);
    }
    const categoryOf = (a: UpsertOperation) => str(items.get(`${a.regionCode}/${str(a, 'equipmentExternalId')}`)!, 'category');
    expect(open.some((a) => categoryOf(a) === 'radio' && a.data['holderType'] === 'assistant')).toBe(true);
    expect(open.filter((a) => categoryOf(a) === 'body_camera').length).toBeGreaterThan(50);
    expect(dataset.allocations.length).toBeGreaterThan(open.length);
  });

  it('leaves some division-level cadres without provincial training in 3 years and some recruits without initial training', () => {
    const trained = (key: string, kind: string, since = '0000-00-00') =>
      dataset.trainings.some((t) => t.data['personExternalId'] === key && t.data['kind'] === kind && str(t, 'endedOn') >= since);
    const active = dataset.officers.filter((o) => o.data['employmentStatus'] === 'active');
    const cadres = active.filter((o) => o.data['cadreLevel'] === 'division_or_above');
    const overdue = cadres.filter((o) => !trained(o.externalId, 'provincial', addDays(TODAY, -3 * 365)));
    expect(overdue.length).toBeGreaterThan(0);
    expect(overdue.length).toBeLessThan(cadres.length);
    const untrained = active.filter((o) => !trained(o.externalId, 'initial'));
    expect(untrained.length).toBeGreaterThan(0);
    expect(untrained.length).toBeLessThan(active.length / 3);
    for (const t of dataset.trainings) {
      expect(str(t, 'endedOn') >= str(t, 'startedOn')).toBe(true);
      expect(t.data['hours']).toBeGreaterThan(0);
    }
    expect(dataset.trainings.some((t) => t.data['personType'] === 'assistant')).toBe(true);
  });

  it('assesses assistants once a year at most, with valid periods', () => {
    const periods = new Set(dataset.assessments.map((a) => `${str(a, 'assistantExternalId')}|${str(a, 'period')}`));
    expect(periods.size).toBe(dataset.assessments.length);
    expect(dataset.assessments.length).toBeGreaterThan(0);
    for (const a of dataset.assessments) expect(str(a, 'period')).toMatch(/^\d{4}$/);
  });
});
