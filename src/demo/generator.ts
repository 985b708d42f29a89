// Demo and benchmark data: Henan org units, officers, credentials and the records about them as POST /v1/batch operations.
// Pure and deterministic: the same seed (and, for credentials, the same `today`) gives the same operations,
// byte for byte, on every machine. No I/O, no clock, no Math.random.
import { makeCreditCode } from '../domain/credit-code.js';
import { addDays, daysBetween } from '../domain/dates.js';
import { makeIdCardNumber } from '../domain/id-card.js';

/** One `POST /v1/batch` upsert, exactly as the API takes it. */
export interface UpsertOperation {
  op: 'upsert';
  collection: string;
  regionCode: string;
  externalId: string;
  data: Record<string, unknown>;
}

/**
 * A reference that cannot be given by externalId because its target lives in another region (keys resolve in
 * the referring record's region): the writer looks the target's id up and sets `field` before sending.
 */
export interface CrossRegionLink {
  collection: string;
  regionCode: string;
  externalId: string;
  field: string;
  target: { collection: string; regionCode: string; externalId: string };
}

export type Seed = number | string;

// ---- PRNG ---------------------------------------------------------------------------------------

/** 32-bit FNV-1a of a string: turns a seed (and a stream name) into PRNG state. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** Picks a value with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
}

/** mulberry32, seeded by hashing `seed` and the stream name: independent streams per record. */
export function createRng(seed: Seed, stream = ''): Rng {
  let state = hash32(`${String(seed)}|${stream}`);
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[int(0, items.length - 1)]!;
    },
    weighted<T>(entries: readonly (readonly [T, number])[]): T {
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      let r = next() * total;
      for (const [value, w] of entries) {
        r -= w;
        if (r < 0) return value;
      }
      return entries[entries.length - 1]![0];
    },
  };
}

// ---- geography and org units ----------------------------------------------------------------------

export interface DemoDistrict {
  code: string;
  name: string;
  streets: readonly string[];
}

export interface DemoCity {
  code: string;
  name: string;
  /** Prefix of the city platform's own keys, e.g. ZZ-OFF-000123. */
  keyPrefix: string;
  /** Share of the officers working in this city. */
  weight: number;
  districts: readonly DemoDistrict[];
}

/** Zhengzhou with four districts, and two more Henan cities (GB/T 2260 codes). */
export const DEMO_CITIES: readonly DemoCity[] = [
  {
    code: '410100',
    name: '郑州市',
    keyPrefix: 'ZZ',
    weight: 6,
    districts: [
      { code: '410102', name: '中原区', streets: ['林山寨街道', '建设路街道'] },
      { code: '410103', name: '二七区', streets: ['五里堡街道', '大学路街道'] },
      { code: '410104', name: '管城回族区', streets: ['北下街街道'] },
      { code: '410105', name: '金水区', streets: ['经八路街道', '花园路街道', '丰产路街道'] },
    ],
  },
  {
    code: '410300',
    name: '洛阳市',
    keyPrefix: 'LY',
    weight: 2,
    districts: [{ code: '410305', name: '涧西区', streets: ['重庆路街道', '湖北路街道'] }],
  },
  {
    code: '410700',
    name: '新乡市',
    keyPrefix: 'XX',
    weight: 2,
    districts: [{ code: '410702', name: '红旗区', streets: ['渠东街道', '西街街道'] }],
  },
];

export type OrgUnitLevel = 'province' | 'city' | 'county' | 'street';

/** A unit officers can be assigned to (enforcement units, not the administrative bureaus). */
export interface Workplace {
  regionCode: string;
  externalId: string;
  level: OrgUnitLevel;
  cityCode: string;
  keyPrefix: string;
  /** Relative share of the city's officers. */
  weight: number;
}

export interface OrgUnitPlan {
  operations: UpsertOperation[];
  /** District bureaus under their city bureau (another region): set `parentId` once the city bureau exists. */
  links: CrossRegionLink[];
  workplaces: Workplace[];
}

/**
 * The org-unit tree: per city a 城市管理局 (level city) with its 综合执法支队; per district a 城市管理局 (level
 * county, under the city bureau by `parentId`, see `links`) with its 执法大队 and one 中队 per street (level street,
 * in the district's region). Parents in the same region are given by `parentExternalId`.
 */
export function demoOrgUnits(cities: readonly DemoCity[] = DEMO_CITIES): OrgUnitPlan {
  const operations: UpsertOperation[] = [];
  const links: CrossRegionLink[] = [];
  const workplaces: Workplace[] = [];
  let creditSerial = 0;
  const unit = (
    city: DemoCity,
    regionCode: string,
    externalId: string,
    name: string,
    level: OrgUnitLevel,
    parentExternalId: string | undefined,
    withCreditCode: boolean,
  ) => {
    const data: Record<string, unknown> = { name, level };
    if (parentExternalId) data['parentExternalId'] = parentExternalId;
    // 1 机构编制 / 1 机关: the credit code of a government department.
    if (withCreditCode) {
      data['unifiedSocialCreditCode'] = makeCreditCode({
        registrationDept: '1',
        orgCategory: '1',
        regionCode,
        serial: 5_000_000 + Number(regionCode.slice(2)) * 10 + ++creditSerial,
      });
    }
    operations.push({ op: 'upsert', collection: 'org-units', regionCode, externalId, data });
    return externalId;
  };

  for (const city of cities) {
    const p = city.keyPrefix;
    let n = 0;
    const key = () => `${p}-ORG-${String(++n).padStart(3, '0')}`;
    const bureau = unit(city, city.code, key(), `${city.name}城市管理局`, 'city', undefined, true);
    const detachment = unit(city, city.code, key(), `${city.name}城市管理综合执法支队`, 'city', bureau, true);
    workplaces.push({ regionCode: city.code, externalId: detachment, level: 'city', cityCode: city.code, keyPrefix: p, weight: 4 });
    for (const district of city.districts) {
      const districtBureau = unit(city, district.code, key(), `${city.name}${district.name}城市管理局`, 'county', undefined, true);
      links.push({
        collection: 'org-units',
        regionCode: district.code,
        externalId: districtBureau,
        field: 'parentId',
        target: { collection: 'org-units', regionCode: city.code, externalId: bureau },
      });
      const brigade = unit(city, district.code, key(), `${city.name}${district.name}城市管理执法大队`, 'county', districtBureau, false);
      workplaces.push({ regionCode: district.code, externalId: brigade, level: 'county', cityCode: city.code, keyPrefix: p, weight: 3 });
      for (const street of district.streets) {
        const squad = unit(city, district.code, key(), `${district.name}${street}城市管理执法中队`, 'street', brigade, false);
        workplaces.push({ regionCode: district.code, externalId: squad, level: 'street', cityCode: city.code, keyPrefix: p, weight: 2 });
      }
    }
  }
  return { operations, links, workplaces };
}

// ---- people -----------------------------------------------------------------------------------

// Common surnames, roughly by frequency (王李张刘 lead in Henan too); earlier ones get more weight.
const SURNAMES = [
  '王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗',
  '梁', '宋', '郑', '谢', '韩', '唐', '冯', '于', '董', '肖', '程', '曹', '袁', '邓', '许', '傅', '沈', '曾', '彭', '吕',
  '苏', '卢', '蒋', '蔡', '贾', '丁', '魏', '薛', '叶', '阎', '余', '潘', '杜', '戴', '夏', '钟', '汪', '田', '任', '姜',
  '范', '方', '石', '姚', '谭', '廖', '邹', '熊', '金', '陆', '郝', '孔', '白', '崔', '康', '毛', '邱', '秦', '江', '史',
  '顾', '侯', '邵', '孟', '龙', '万', '段', '雷', '钱', '汤', '尹', '常', '武', '乔', '贺', '龚', '文', '牛', '申', '楚',
] as const;
const SURNAME_WEIGHTS = SURNAMES.map((s, i) => [s, i < 4 ? 8 : i < 10 ? 4 : i < 30 ? 2 : 1] as const);

const MALE_CHARS = [
  '伟', '强', '磊', '军', '勇', '杰', '涛', '斌', '超', '明', '刚', '平', '辉', '鹏', '华', '飞', '鑫', '波', '宁', '浩',
  '凯', '健', '俊', '帆', '旭', '宇', '林', '峰', '建', '国', '志', '永', '海', '东', '亮', '新', '振', '晓', '文', '博',
] as const;
const FEMALE_CHARS = [
  '芳', '娜', '敏', '静', '丽', '艳', '娟', '霞', '燕', '玲', '婷', '雪', '慧', '颖', '琳', '倩', '洁', '萍', '红', '梅',
  '晶', '莉', '欣', '悦', '佳', '璐', '丹', '月', '秀', '兰',
] as const;

export function chineseName(rng: Rng, gender: '1' | '2'): string {
  const chars = gender === '1' ? MALE_CHARS : FEMALE_CHARS;
  const surname = rng.weighted(SURNAME_WEIGHTS);
  return rng.chance(0.3) ? surname + rng.pick(chars) : surname + rng.pick(chars) + rng.pick(chars);
}

const PHONE_PREFIXES = ['133', '135', '136', '137', '138', '139', '150', '151', '152', '158', '159', '177', '186', '187', '188', '199'] as const;

export function mobilePhone(rng: Rng): string {
  return rng.pick(PHONE_PREFIXES) + String(rng.int(0, 99_999_999)).padStart(8, '0');
}

// Birth dates 1965-01-01 … 2000-12-31, and 500 sequence slots per day (odd = male, even = female).
const BIRTH_FIRST = '1965-01-01';
const BIRTH_DAYS = daysBetween(BIRTH_FIRST, '2000-12-31') + 1; // 13 149
const ID_SPACE = BIRTH_DAYS * 500; // 6 574 500 distinct (birth date, slot) pairs
// A prime that does not divide ID_SPACE (= 2²·3³·5³·487), so i ↦ (stride·i + offset) mod ID_SPACE is a bijection.
const ID_STRIDE = 1_000_003;

/**
 * Birth date and sequence of officer number `index`: an affine bijection over (birth date, slot), so any set of
 * distinct indexes (any runs, any seed) gets distinct ID numbers — up to 6.5 million officers.
 */
function identitySlot(seed: Seed, index: number): { birthDate: string; slot: number } {
  const offset = hash32(`${String(seed)}|identity`) % ID_SPACE;
  const p = (((index % ID_SPACE) * ID_STRIDE) % ID_SPACE + offset) % ID_SPACE;
  return { birthDate: addDays(BIRTH_FIRST, p % BIRTH_DAYS), slot: Math.floor(p / BIRTH_DAYS) };
}

export const CADRE_LEVELS = ['none', 'section', 'division_or_above'] as const;
export const STAFFING_TYPES = ['civil_servant', 'civil_servant_managed', 'public_institution', 'contract'] as const;
export const EMPLOYMENT_STATUSES = ['active', 'transferred', 'retired', 'resigned', 'dismissed'] as const;
export type CadreLevel = (typeof CADRE_LEVELS)[number];
export type StaffingType = (typeof STAFFING_TYPES)[number];
export type EmploymentStatus = (typeof EMPLOYMENT_STATUSES)[number];

const POSITIONS: Record<OrgUnitLevel, Record<CadreLevel, readonly string[]>> = {
  province: { division_or_above: ['总队长'], section: ['处长'], none: ['执法队员'] },
  city: { division_or_above: ['支队长', '副支队长', '政委'], section: ['科长', '副科长', '直属大队长'], none: ['执法队员', '科员', '内勤'] },
  county: { division_or_above: ['大队长', '政委'], section: ['副大队长', '科长', '中队长'], none: ['执法队员', '科员', '内勤'] },
  street: { division_or_above: ['中队长'], section: ['中队长', '副中队长'], none: ['执法队员', '执法队员', '内勤'] },
};

// 公务员职级 (公务员职务与职级并行规定, 2019) for 公务员 and 参公; posts for 事业编制.
const CIVIL_SERVANT_RANKS: Record<CadreLevel, readonly string[]> = {
  division_or_above: ['一级调研员', '二级调研员', '三级调研员', '四级调研员'],
  section: ['一级主任科员', '二级主任科员', '三级主任科员', '四级主任科员'],
  none: ['一级科员', '二级科员', '四级主任科员'],
};
const INSTITUTION_RANKS: Record<CadreLevel, readonly string[]> = {
  division_or_above: ['管理岗位五级'],
  section: ['管理岗位七级', '管理岗位八级'],
  none: ['管理岗位九级', '专业技术岗位十二级'],
};

const CADRE_BY_LEVEL: Record<OrgUnitLevel, readonly (readonly [CadreLevel, number])[]> = {
  province: [['division_or_above', 10], ['section', 30], ['none', 60]],
  city: [['division_or_above', 6], ['section', 20], ['none', 74]],
  county: [['division_or_above', 3], ['section', 15], ['none', 82]],
  street: [['section', 8], ['none', 92]],
};

/** What a generated officer is, beside its operation: the tests and the credential generator read these. */
export interface OfficerTraits {
  index: number;
  gender: '1' | '2';
  birthDate: string;
  staffingType: StaffingType;
  cadreLevel: CadreLevel;
  employmentStatus: EmploymentStatus;
  hireDate: string;
  cityKeyPrefix: string;
}

export interface GeneratedOfficer {
  operation: UpsertOperation;
  traits: OfficerTraits;
}

export interface OfficerOptions {
  seed: Seed;
  /** Number of officers. */
  count: number;
  /** Index of the first officer: distinct indexes give distinct keys, ID numbers and badge numbers. */
  start?: number;
  /** Units the officers work in (from `demoOrgUnits().workplaces`). */
  workplaces: readonly Workplace[];
  /** Put before every key, e.g. `B2-` for a fresh set of keys per benchmark run. */
  keyPrefix?: string;
}

const HIRE_CEILING = '2025-12-31';
const CITY_WEIGHTS = new Map(DEMO_CITIES.map((c) => [c.code, c.weight]));
const weightCache = new WeakMap<readonly Workplace[], (readonly [Workplace, number])[]>();

/** Each city gets its share of officers whatever its number of units; within a city, by the units' weights. */
function workplaceWeights(workplaces: readonly Workplace[]): (readonly [Workplace, number])[] {
  let weights = weightCache.get(workplaces);
  if (!weights) {
    const perCity = new Map<string, number>();
    for (const w of workplaces) perCity.set(w.cityCode, (perCity.get(w.cityCode) ?? 0) + w.weight);
    weights = workplaces.map((w) => [w, ((CITY_WEIGHTS.get(w.cityCode) ?? 1) * w.weight) / perCity.get(w.cityCode)!] as const);
    weightCache.set(workplaces, weights);
  }
  return weights;
}

/** Officer number `index`: a function of (seed, index) alone, so any slice of a large set can be made alone. */
export function generateOfficer(seed: Seed, index: number, workplaces: readonly Workplace[], keyPrefix = ''): GeneratedOfficer {
  if (workplaces.length === 0) throw new RangeError('officers need at least one workplace');
  const rng = createRng(seed, `officer:${index}`);
  const place = rng.weighted(workplaceWeights(workplaces));

  const gender: '1' | '2' = rng.chance(0.72) ? '1' : '2';
  const { birthDate, slot } = identitySlot(seed, index);
  // Born in the unit's own district, or for city units in one of the city's districts.
  const city = DEMO_CITIES.find((c) => c.code === place.cityCode);
  const addressCode = place.level === 'city' && city && city.districts.length > 0 ? rng.pick(city.districts).code : place.regionCode;
  const idCardNumber = makeIdCardNumber({ addressCode, birthDate, sequence: gender === '1' ? slot * 2 + 1 : slot * 2 });

  const staffingType = rng.weighted<StaffingType>([
    ['civil_servant', 58],
    ['civil_servant_managed', 20],
    ['public_institution', 14],
    ['contract', 8],
  ]);
  const cadreLevel: CadreLevel = staffingType === 'contract' ? 'none' : rng.weighted(CADRE_BY_LEVEL[place.level]);
  const position = staffingType === 'contract' ? rng.pick(['内勤', '综合文员', '执法辅助']) : rng.pick(POSITIONS[place.level][cadreLevel]);
  const rank =
    staffingType === 'contract'
      ? undefined
      : rng.pick(staffingType === 'public_institution' ? INSTITUTION_RANKS[cadreLevel] : CIVIL_SERVANT_RANKS[cadreLevel]);

  // Hired between 20 and 32; never after the ceiling (keeps the data independent of the day it is made).
  let hireDate = addDays(birthDate, 20 * 365 + rng.int(0, 12 * 365));
  if (hireDate > HIRE_CEILING) hireDate = addDays(HIRE_CEILING, -rng.int(0, 400));
  const employmentStatus: EmploymentStatus =
    birthDate <= '1966-06-30' && rng.chance(0.5)
      ? 'retired'
      : rng.weighted<EmploymentStatus>([
          ['active', 95],
          ['transferred', 2.5],
          ['resigned', 1.5],
          ['dismissed', 0.5],
        ]);

  const data: Record<string, unknown> = {
    name: chineseName(rng, gender),
    gender,
    idCardNumber,
    birthDate,
    orgUnitExternalId: place.externalId,
    position,
    cadreLevel,
    staffingType,
    hireDate,
    employmentStatus,
    badgeNumber: `${place.regionCode}${String(index + 1).padStart(5, '0')}`,
  };
  if (rank) data['rank'] = rank;
  if (rng.chance(0.97)) data['ethnicity'] = rng.weighted([['01', 94], ['03', 4], ['11', 1], ['02', 0.5], ['08', 0.5]] as const);
  if (rng.chance(0.98)) {
    const young = birthDate >= '1993-01-01';
    data['politicalStatus'] = rng.weighted([['01', young ? 35 : 62], ['02', 4], ['03', young ? 30 : 2], ['13', young ? 31 : 32]] as const);
  }
  if (rng.chance(0.95)) {
    data['education'] = rng.weighted([['21', 52], ['31', 24], ['14', 10], ['20', 3], ['41', 4], ['61', 5], ['47', 2]] as const);
  }
  if (rng.chance(0.92)) data['phone'] = mobilePhone(rng);

  const externalId = `${keyPrefix}${place.keyPrefix}-OFF-${String(index + 1).padStart(6, '0')}`;
  return {
    operation: { op: 'upsert', collection: 'officers', regionCode: place.regionCode, externalId, data },
    traits: { index, gender, birthDate, staffingType, cadreLevel, employmentStatus, hireDate, cityKeyPrefix: place.keyPrefix },
  };
}

export function generateOfficers(options: OfficerOptions): GeneratedOfficer[] {
  const start = options.start ?? 0;
  const out: GeneratedOfficer[] = [];
  for (let i = 0; i < options.count; i++) out.push(generateOfficer(options.seed, start + i, options.workplaces, options.keyPrefix));
  return out;
}

/** Just the batch operations of `generateOfficers`. */
export function officerOps(options: OfficerOptions): UpsertOperation[] {
  return generateOfficers(options).map((o) => o.operation);
}

/** The same officers as `officerOps`, `chunkSize` at a time: for sets too large to hold at once (10⁶ for cases). */
export function* officerChunks(options: OfficerOptions & { chunkSize?: number }): Generator<UpsertOperation[]> {
  const start = options.start ?? 0;
  const chunkSize = options.chunkSize ?? 1000;
  for (let offset = 0; offset < options.count; offset += chunkSize) {
    yield officerOps({ ...options, start: start + offset, count: Math.min(chunkSize, options.count - offset) });
  }
}

// ---- credentials ------------------------------------------------------------------------------

/** 河南省行政执法证 and 河南省行政执法监督证 are both issued by the provincial government (省政府令第180号 art. 5). */
export const ISSUING_AUTHORITY = '河南省人民政府';
const VALIDITY_DAYS = 5 * 365 + 1;

export interface CredentialOptions {
  seed: Seed;
  officers: readonly GeneratedOfficer[];
  /** YYYY-MM-DD: expiry dates are placed relative to this day. */
  today: string;
  /** Mark exactly one valid enforcement credential `suspended` (the demo); off for benchmark sets. */
  oneSuspended?: boolean;
}

/**
 * Credentials of the given officers. Active career staff hold one enforcement credential (about 6% of them expire
 * within 60 days, about 5% expired already, a few were lost or revoked and replaced, a few are not issued yet);
 * division-level cadres mostly hold a supervision credential too. Contract staff never hold an enforcement
 * credential; officers who left have theirs revoked. At most one `valid` credential of a kind per officer.
 */
export function credentialOps(options: CredentialOptions): UpsertOperation[] {
  const { seed, today } = options;
  const out: UpsertOperation[] = [];
  let suspendedLeft = options.oneSuspended ? 1 : 0;
  for (const officer of options.officers) {
    const { traits, operation } = officer;
    if (traits.staffingType === 'contract') continue;
    const rng = createRng(seed, `credentials:${traits.index}`);
    const number = String(traits.index + 1).padStart(6, '0');
    let serial = 0;
    const add = (kind: 'enforcement' | 'supervision', issuedOn: string, expiresOn: string, status: string) => {
      const suffix = ++serial;
      out.push({
        op: 'upsert',
        collection: 'credentials',
        regionCode: operation.regionCode,
        externalId: `${operation.externalId.replace('-OFF-', '-CRD-')}-${suffix}`,
        data: {
          officerExternalId: operation.externalId,
          // 执 (enforcement) / 监 (supervision) in Latin letters, the officer's region, the officer, the issue.
          credentialNumber: `${kind === 'enforcement' ? 'ZF' : 'JD'}${operation.regionCode}${number}${suffix}`,
          kind,
          issuingAuthority: ISSUING_AUTHORITY,
          issuedOn,
          expiresOn,
          status,
        },
      });
    };
    const validity = (expiresOn: string) => {
      const issuedOn = addDays(expiresOn, -VALIDITY_DAYS);
      return issuedOn < traits.hireDate ? { issuedOn: traits.hireDate, expiresOn: addDays(traits.hireDate, VALIDITY_DAYS) } : { issuedOn, expiresOn };
    };

    if (traits.employmentStatus !== 'active') {
      // Left the service: the credential was recalled.
      const { issuedOn, expiresOn } = validity(addDays(today, -rng.int(30, 900)));
      add('enforcement', issuedOn, expiresOn, 'revoked');
      continue;
    }
    if (daysBetween(traits.hireDate, today) < 365 && rng.chance(0.5)) continue; // newly hired, not issued yet
    if (rng.chance(0.02)) continue; // awaiting the next issue round

    const situation = rng.weighted([
      ['current', 84],
      ['expiring', 6],
      ['expired', 5],
      ['replaced', 5],
    ] as const);
    if (situation === 'replaced') {
      // An earlier card was lost or revoked, then a new one issued.
      const current = validity(addDays(today, rng.int(200, 1500)));
      const earlier = addDays(current.issuedOn, -rng.int(400, 900));
      if (earlier >= traits.hireDate) add('enforcement', earlier, addDays(current.issuedOn, -1), rng.chance(0.5) ? 'lost' : 'revoked');
      add('enforcement', current.issuedOn, current.expiresOn, 'valid');
    } else {
      const expiresOn =
        situation === 'expiring'
          ? addDays(today, rng.int(1, 60))
          : situation === 'expired'
            ? addDays(today, -rng.int(1, 400))
            : addDays(today, rng.int(61, VALIDITY_DAYS - 30));
      const { issuedOn, expiresOn: until } = validity(expiresOn);
      const status = situation === 'current' && suspendedLeft > 0 ? 'suspended' : 'valid';
      if (status === 'suspended') suspendedLeft--;
      add('enforcement', issuedOn, until, status);
    }
    if (traits.cadreLevel === 'division_or_above' && rng.chance(0.8)) {
      const { issuedOn, expiresOn } = validity(addDays(today, rng.int(61, VALIDITY_DAYS - 30)));
      add('supervision', issuedOn, expiresOn, 'valid');
    }
  }
  return out;
}

// ---- post statuses, assistants, equipment, trainings, assessments ------------------------------------

/** The officer's valid enforcement credential periods, from the generated credential operations. */
function enforcementPeriods(credentials: readonly UpsertOperation[]): Map<string, { issuedOn: string; expiresOn: string }[]> {
  const periods = new Map<string, { issuedOn: string; expiresOn: string }[]>();
  for (const op of credentials) {
    if (op.data['kind'] !== 'enforcement' || op.data['status'] !== 'valid') continue;
    const key = `${op.regionCode}/${String(op.data['officerExternalId'])}`;
    const list = periods.get(key) ?? [];
    list.push({ issuedOn: String(op.data['issuedOn']), expiresOn: String(op.data['expiresOn']) });
    periods.set(key, list);
  }
  return periods;
}

const POSTS = ['巡查岗', '巡查岗', '巡查岗', '窗口岗', '督查岗', '值班岗', '综合岗'] as const;

/** An officer's generated record, with where it works. */
interface Staff {
  officer: GeneratedOfficer;
  key: string;
  regionCode: string;
  unit: string;
}

function staffOf(people: readonly GeneratedOfficer[]): Staff[] {
  return people.map((officer) => ({
    officer,
    key: officer.operation.externalId,
    regionCode: officer.operation.regionCode,
    unit: String(officer.operation.data['orgUnitExternalId']),
  }));
}

export interface PersonnelOptions {
  seed: Seed;
  people: readonly GeneratedOfficer[];
  credentials: readonly UpsertOperation[];
  workplaces: readonly Workplace[];
  /** YYYY-MM-DD: statuses, allocations and trainings are placed relative to it. */
  today: string;
}

export interface PersonnelOperations {
  postStatuses: UpsertOperation[];
  assistants: UpsertOperation[];
  equipment: UpsertOperation[];
  allocations: UpsertOperation[];
  trainings: UpsertOperation[];
  assessments: UpsertOperation[];
}

const ASSISTANT_DUTIES = ['publicity', 'patrol', 'information_collection', 'dissuasion'] as const;
/** Assistants' identities come from the same bijection as officers', far above any officer index. */
const ASSISTANT_INDEX_BASE = 6_000_000;
const PLATE_LETTERS: Record<string, string> = { ZZ: 'A', LY: 'C', XX: 'G' };

/**
 * Everything else the demo needs, consistent with the officers and credentials given:
 * - post statuses: about 90% of active officers have a current one (most on duty — only those holding a valid
 *   enforcement credential that day, 持证上岗), some with an earlier one before it; half of those whose credential
 *   has lapsed since are still on duty (for the list on-duty-without-credential);
 * - assistants per unit at about 0.6 of its active officers, and at 1.3–1.6 in every fifth unit (over the ratio
 *   of 1, 中发〔2015〕37号), each under an active officer of the unit's region, with duties among the four;
 * - equipment per unit (vehicles, body cameras, handheld terminals, radios, a few in maintenance, retired or lost),
 *   some units below the default quotas; in-service cameras and terminals allocated to officers on duty, vehicles to
 *   squad leaders, radios to assistants, and some returned allocations as history;
 * - trainings: initial training for officers and assistants (recruits of the last two years often without),
 *   annual trainings, and provincial training for division-level cadres (about a third not in the last 3 years);
 * - yearly assessments of assistants.
 */
export function personnelOps(options: PersonnelOptions): PersonnelOperations {
  const { seed, today } = options;
  const staff = staffOf(options.people);
  const periods = enforcementPeriods(options.credentials);
  const holdsOn = (s: Staff, day: string) =>
    (periods.get(`${s.regionCode}/${s.key}`) ?? []).some((p) => p.issuedOn <= day && day <= p.expiresOn);
  const active = staff.filter((s) => s.officer.traits.employmentStatus === 'active');
  const currentYear = Number(today.slice(0, 4));

  // Post statuses.
  const postStatuses: UpsertOperation[] = [];
  const onDuty = new Set<string>();
  for (const s of active) {
    const rng = createRng(seed, `post-status:${s.officer.traits.index}`);
    if (!rng.chance(0.9)) continue;
    const base = s.key.replace('-OFF-', '-PST-');
    let from = addDays(today, -rng.int(0, 60));
    // Half the officers whose credential has lapsed went on duty while it was valid and are still recorded on
    // duty: the compliance list on-duty-without-credential has something to show.
    const last = (periods.get(`${s.regionCode}/${s.key}`) ?? []).reduce<{ issuedOn: string; expiresOn: string } | undefined>(
      (latest, p) => (!latest || p.expiresOn > latest.expiresOn ? p : latest),
      undefined,
    );
    const lapsed = last !== undefined && last.expiresOn < today && rng.chance(0.5);
    if (lapsed) from = addDays(last.expiresOn, -rng.int(0, Math.min(60, daysBetween(last.issuedOn, last.expiresOn))));
    const credentialed = holdsOn(s, from);
    const status = lapsed
      ? 'on_duty'
      : credentialed
        ? rng.weighted([['on_duty', 78], ['off_duty', 7], ['on_leave', 6], ['training', 5], ['seconded', 4]] as const)
        : rng.weighted([['off_duty', 50], ['training', 35], ['on_leave', 15]] as const);
    const grid = `${s.regionCode}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 40)).padStart(3, '0')}`;
    if (rng.chance(0.4)) {
      postStatuses.push({
        op: 'upsert',
        collection: 'post-statuses',
        regionCode: s.regionCode,
        externalId: `${base}-1`,
        data: { officerExternalId: s.key, status: 'training', post: '培训', effectiveFrom: addDays(from, -rng.int(20, 200)) },
      });
    }
    const data: Record<string, unknown> = { officerExternalId: s.key, status, effectiveFrom: from };
    if (status === 'on_duty' || status === 'off_duty') {
      data['post'] = rng.pick(POSTS);
      data['gridCode'] = grid;
    }
    postStatuses.push({ op: 'upsert', collection: 'post-statuses', regionCode: s.regionCode, externalId: `${base}-2`, data });
    if (status === 'on_duty') onDuty.add(`${s.regionCode}/${s.key}`);
  }

  // Assistants, per unit.
  const assistants: UpsertOperation[] = [];
  const assistantsInService: { regionCode: string; key: string; unit: string; admittedOn: string }[] = [];
  let assistantIndex = 0;
  for (const [u, place] of options.workplaces.entries()) {
    const here = active.filter((s) => s.unit === place.externalId && s.regionCode === place.regionCode);
    const supervisors = here.length > 0 ? here : active.filter((s) => s.regionCode === place.regionCode);
    if (supervisors.length === 0) continue;
    const rng = createRng(seed, `assistants:${place.regionCode}/${place.externalId}`);
    const ratio = u % 5 === 2 ? 1.3 + rng.next() * 0.3 : 0.4 + rng.next() * 0.4;
    const count = Math.max(1, Math.round(Math.max(here.length, 1) * ratio));
    for (let i = 0; i < count; i++) {
      const index = assistantIndex++;
      const arng = createRng(seed, `assistant:${index}`);
      const gender: '1' | '2' = arng.chance(0.65) ? '1' : '2';
      const { birthDate, slot } = identitySlot(seed, ASSISTANT_INDEX_BASE + index);
      const idCardNumber = makeIdCardNumber({ addressCode: place.regionCode, birthDate, sequence: gender === '1' ? slot * 2 + 1 : slot * 2 });
      let admittedOn = addDays(birthDate, 20 * 365 + arng.int(0, 15 * 365));
      if (admittedOn > addDays(today, -30)) admittedOn = addDays(today, -arng.int(30, 700));
      const status = arng.weighted([['active', 80], ['probation', 12], ['dismissed', 8]] as const);
      const duties = ASSISTANT_DUTIES.filter((d, k) => (k === 1 ? arng.chance(0.9) : arng.chance(0.45)));
      const key = `${place.keyPrefix}-XG-${String(index + 1).padStart(6, '0')}`;
      const data: Record<string, unknown> = {
        name: chineseName(arng, gender),
        gender,
        idCardNumber,
        birthDate,
        orgUnitExternalId: place.externalId,
        supervisingOfficerExternalId: arng.pick(supervisors).key,
        admittedOn,
        status,
        duties: duties.length > 0 ? duties : ['patrol'],
      };
      if (arng.chance(0.9)) data['phone'] = mobilePhone(arng);
      assistants.push({ op: 'upsert', collection: 'assistants', regionCode: place.regionCode, externalId: key, data });
      if (status !== 'dismissed') assistantsInService.push({ regionCode: place.regionCode, key, unit: place.externalId, admittedOn });
    }
  }

  // Equipment per unit, and who holds it.
  const equipment: UpsertOperation[] = [];
  const allocations: UpsertOperation[] = [];
  let equipmentIndex = 0;
  let allocationIndex = 0;
  const serials = new Map<string, number>();
  for (const place of options.workplaces) {
    const here = active.filter((s) => s.unit === place.externalId && s.regionCode === place.regionCode);
    const people = here.length;
    const rng = createRng(seed, `equipment:${place.regionCode}/${place.externalId}`);
    const short = rng.chance(0.25); // some units are below the default quotas
    const dutyHere = here.filter((s) => onDuty.has(`${s.regionCode}/${s.key}`));
    const assistantsHere = assistantsInService.filter((a) => a.unit === place.externalId && a.regionCode === place.regionCode);
    const plan: [EquipmentCategoryCode, number][] = [
      ['vehicle', Math.max(people > 0 ? 1 : 0, Math.ceil(people / 8) - (short ? 1 : 0))],
      ['body_camera', Math.max(0, dutyHere.length - (short ? Math.ceil(dutyHere.length / 3) : 0)) + rng.int(0, 2)],
      ['handheld_terminal', Math.ceil(people / 2)],
      ['radio', Math.min(assistantsHere.length, 6) + rng.int(0, 2)],
    ];
    const holders: Record<EquipmentCategoryCode, { type: 'officer' | 'assistant'; key: string; since: string }[]> = {
      vehicle: here.filter((s) => s.officer.traits.cadreLevel !== 'none').map((s) => officerHolder(s)),
      body_camera: dutyHere.map((s) => officerHolder(s)),
      handheld_terminal: here.map((s) => officerHolder(s)),
      radio: assistantsHere.map((a) => ({ type: 'assistant' as const, key: a.key, since: a.admittedOn })),
    };
    for (const [category, count] of plan) {
      const queue = [...holders[category]];
      for (let i = 0; i < count; i++) {
        const irng = createRng(seed, `item:${equipmentIndex}`);
        const key = `${place.keyPrefix}-EQ-${String(++equipmentIndex).padStart(6, '0')}`;
        const n = (serials.get(`${category}|${place.keyPrefix}`) ?? 0) + 1;
        serials.set(`${category}|${place.keyPrefix}`, n);
        const status = irng.weighted([['in_service', 90], ['maintenance', 5], ['retired', 4], ['lost', 1]] as const);
        const [model, serialNumber] = itemIdentity(category, place, n);
        equipment.push({
          op: 'upsert',
          collection: 'equipment',
          regionCode: place.regionCode,
          externalId: key,
          data: { category, model, serialNumber, orgUnitExternalId: place.externalId, status },
        });
        const allocate = (holder: { type: 'officer' | 'assistant'; key: string }, allocatedOn: string, returnedOn?: string) => {
          const data: Record<string, unknown> = { equipmentExternalId: key, holderType: holder.type, holderExternalId: holder.key, allocatedOn };
          if (returnedOn) data['returnedOn'] = returnedOn;
          allocations.push({
            op: 'upsert',
            collection: 'equipment-allocations',
            regionCode: place.regionCode,
            externalId: `${place.keyPrefix}-ALC-${String(++allocationIndex).padStart(6, '0')}`,
            data,
          });
        };
        // An earlier holder who gave it back: history.
        const previous = queue.length > 1 && irng.chance(0.2) ? queue[queue.length - 1] : undefined;
        let returned: string | undefined;
        if (previous) {
          const from = addDays(today, -irng.int(500, 900));
          returned = addDays(from, irng.int(30, 300));
          allocate(previous, from, returned);
        }
        const holder = status === 'in_service' ? queue.shift() : undefined;
        if (holder) {
          const earliest = returned ? addDays(returned, 1) : holder.since;
          const since = addDays(today, -irng.int(5, 400));
          allocate(holder, since < earliest ? earliest : since);
        }
      }
    }
  }

  // Trainings.
  const trainings: UpsertOperation[] = [];
  const training = (regionCode: string, personType: 'officer' | 'assistant', personKey: string, n: number, t: TrainingPlan) => {
    const rng = createRng(seed, `training:${personKey}:${n}`);
    trainings.push({
      op: 'upsert',
      collection: 'trainings',
      regionCode,
      externalId: `${personKey}-TR-${n}`,
      data: {
        personType,
        personExternalId: personKey,
        kind: t.kind,
        title: t.title,
        organizer: t.organizer,
        startedOn: t.startedOn,
        endedOn: addDays(t.startedOn, t.days - 1),
        hours: t.days * 8,
        passed: rng.chance(0.96),
      },
    });
  };
  for (const s of active) {
    const rng = createRng(seed, `trainings:${s.officer.traits.index}`);
    const { hireDate, cadreLevel } = s.officer.traits;
    const city = DEMO_CITIES.find((c) => c.keyPrefix === s.officer.traits.cityKeyPrefix)?.name ?? '';
    let n = 0;
    const recruit = hireDate >= addDays(today, -730);
    const initialOn = addDays(hireDate, rng.int(14, 120));
    if (initialOn <= addDays(today, -7) && !(recruit && rng.chance(0.5))) {
      training(s.regionCode, 'officer', s.key, ++n, { kind: 'initial', title: '城市管理执法人员初任培训', organizer: `${city}城市管理局`, startedOn: initialOn, days: 10 });
    }
    for (let year = currentYear - 2; year < currentYear; year++) {
      const startedOn = `${year}-${String(rng.int(3, 11)).padStart(2, '0')}-${String(rng.int(1, 25)).padStart(2, '0')}`;
      if (startedOn > hireDate && rng.chance(0.75)) {
        training(s.regionCode, 'officer', s.key, ++n, { kind: 'annual', title: `${year}年度城市管理执法业务培训`, organizer: `${city}城市管理局`, startedOn, days: 3 });
      }
    }
    if (cadreLevel === 'division_or_above') {
      // One provincial training in 3 years (处级以上); about a third are overdue.
      const overdue = rng.chance(0.35);
      const startedOn = addDays(today, overdue ? -rng.int(3 * 365 + 30, 6 * 365) : -rng.int(30, 3 * 365 - 30));
      if (!(overdue && rng.chance(0.3))) {
        training(s.regionCode, 'officer', s.key, ++n, { kind: 'provincial', title: '全省城市管理执法队伍处级干部轮训班', organizer: '河南省住房和城乡建设厅', startedOn, days: 5 });
      }
    }
    if (cadreLevel === 'section' && rng.chance(0.3)) {
      training(s.regionCode, 'officer', s.key, ++n, { kind: 'appointment', title: '中队长任职培训', organizer: `${city}城市管理局`, startedOn: addDays(today, -rng.int(60, 900)), days: 5 });
    }
    if (rng.chance(0.08)) {
      training(s.regionCode, 'officer', s.key, ++n, { kind: 'skills', title: '全省城市管理执法技能比武', organizer: '河南省住房和城乡建设厅', startedOn: addDays(today, -rng.int(60, 500)), days: 2 });
    }
  }
  for (const op of assistants) {
    if (op.data['status'] === 'dismissed') continue;
    const rng = createRng(seed, `assistant-training:${op.externalId}`);
    const startedOn = addDays(String(op.data['admittedOn']), rng.int(3, 30));
    if (startedOn <= today && rng.chance(0.9)) {
      training(op.regionCode, 'assistant', op.externalId, 1, { kind: 'initial', title: '协管人员岗前培训', organizer: '所在执法大队', startedOn, days: 3 });
    }
  }

  // Yearly assessments of assistants.
  const assessments: UpsertOperation[] = [];
  for (const op of assistants) {
    const rng = createRng(seed, `assessments:${op.externalId}`);
    const admitted = Number(String(op.data['admittedOn']).slice(0, 4));
    for (let year = Math.max(admitted + 1, currentYear - 3); year < currentYear; year++) {
      const result = rng.weighted([['excellent', 15], ['competent', 70], ['basically_competent', 10], ['incompetent', 5]] as const);
      const data: Record<string, unknown> = { assistantExternalId: op.externalId, period: String(year), result };
      if (result === 'excellent') data['rewards'] = '通报表扬';
      if (result === 'incompetent') data['penalties'] = op.data['status'] === 'dismissed' ? '解聘' : '诫勉谈话';
      assessments.push({ op: 'upsert', collection: 'assessments', regionCode: op.regionCode, externalId: `${op.externalId}-KH-${year}`, data });
    }
  }

  return { postStatuses, assistants, equipment, allocations, trainings, assessments };
}

type EquipmentCategoryCode = 'vehicle' | 'body_camera' | 'handheld_terminal' | 'radio';

interface TrainingPlan {
  kind: string;
  title: string;
  organizer: string;
  startedOn: string;
  days: number;
}

function officerHolder(s: Staff) {
  return { type: 'officer' as const, key: s.key, since: s.officer.traits.hireDate };
}

/** Model and serial number of item `n` of a category in a city: plates for vehicles, makers' serials for devices. */
function itemIdentity(category: EquipmentCategoryCode, place: Workplace, n: number): [string, string] {
  const nnnn = String(n).padStart(4, '0');
  switch (category) {
    case 'vehicle':
      return ['比亚迪 秦PLUS 执法车', `豫${PLATE_LETTERS[place.keyPrefix] ?? 'A'}·F${nnnn}`];
    case 'body_camera':
      return ['DSJ-T8 执法记录仪', `DSJ${place.cityCode}${nnnn}`];
    case 'handheld_terminal':
      return ['CG-M5 移动执法终端', `ZD${place.cityCode}${nnnn}`];
    case 'radio':
      return ['PD-680 数字对讲机', `DJJ${place.cityCode}${nnnn}`];
  }
}
// ---- cases ------------------------------------------------------------------------------------

export interface CaseOptions {
  seed: Seed;
  officers: readonly GeneratedOfficer[];
  credentials: readonly UpsertOperation[];
  /** YYYY-MM-DD: cases are filed over the year before it. */
  today: string;
  count: number;
}

const CASE_TITLES: Record<string, readonly string[]> = {
  city_appearance: ['占道经营', '乱堆乱放', '擅自设置户外广告'],
  landscaping: ['擅自砍伐树木', '损毁绿地'],
  municipal_utilities: ['擅自挖掘城市道路', '损坏市政设施'],
  construction: ['未取得建设工程规划许可证进行建设', '违法搭建'],
  dust: ['施工工地扬尘未采取防尘措施'],
  muck_transport: ['渣土运输车辆未密闭', '擅自倾倒建筑垃圾'],
  parking: ['违规停放车辆'],
  catering_fumes: ['餐饮油烟直排'],
  other: ['其他违法行为'],
};

/**
 * A year of cases across the demo regions. Each names two active officers of its region whose enforcement
 * credentials are valid on filedOn; older cases are mostly decided (some after their 90-day deadline),
 * executed and closed; a few are still pending past the deadline (overdue), transferred or terminated.
 * Major cases stay at legal_review or before it: reaching `decided` takes a second write after the review,
 * and a re-run of the seed would then try to move them back.
 */
export function caseOps(options: CaseOptions): UpsertOperation[] {
  const { seed, today } = options;
  const valid = new Map<string, { issuedOn: string; expiresOn: string }[]>();
  for (const c of options.credentials) {
    const d = c.data as Record<string, string>;
    if (d['kind'] !== 'enforcement' || d['status'] !== 'valid') continue;
    valid.set(d['officerExternalId']!, [...(valid.get(d['officerExternalId']!) ?? []), { issuedOn: d['issuedOn']!, expiresOn: d['expiresOn']! }]);
  }
  const eligible = options.officers.filter((o) => o.traits.employmentStatus === 'active' && valid.has(o.operation.externalId));
  const byRegion = new Map<string, GeneratedOfficer[]>();
  for (const o of eligible) byRegion.set(o.operation.regionCode, [...(byRegion.get(o.operation.regionCode) ?? []), o]);
  const holds = (o: GeneratedOfficer, day: string) => (valid.get(o.operation.externalId) ?? []).some((c) => c.issuedOn <= day && day <= c.expiresOn);
  const out: UpsertOperation[] = [];
  const serials = new Map<string, number>();
  for (let i = 0; i < options.count; i++) {
    const rng = createRng(seed, `cases:${i}`);
    const first = rng.pick(eligible);
    const filedOn = addDays(today, -rng.int(1, 365));
    const partners = (byRegion.get(first.operation.regionCode) ?? []).filter((o) => o !== first && holds(o, filedOn));
    if (!holds(first, filedOn) || partners.length === 0) continue;
    const second = rng.pick(partners);
    const regionCode = first.operation.regionCode;
    const serial = (serials.get(regionCode) ?? 0) + 1;
    serials.set(regionCode, serial);
    const category = rng.weighted([
      ['city_appearance', 30], ['parking', 15], ['construction', 12], ['dust', 10], ['muck_transport', 10],
      ['catering_fumes', 8], ['landscaping', 5], ['municipal_utilities', 5], ['other', 5],
    ] as const);
    const age = daysBetween(filedOn, today);
    const major = rng.chance(0.04);
    const data: Record<string, unknown> = {
      caseNumber: `${HENAN_CITY_SHORT[regionCode.slice(0, 4)] ?? '豫'}城管罚字〔${filedOn.slice(0, 4)}〕第${String(serial).padStart(4, '0')}号`,
      title: rng.pick(CASE_TITLES[category]!),
      category,
      source: rng.weighted([['patrol', 50], ['complaint', 25], ['assigned', 10], ['non_site', 10], ['transferred_in', 5]] as const),
      orgUnitExternalId: (first.operation.data as Record<string, unknown>)['orgUnitExternalId'],
      handlingOfficerExternalIds: [first.operation.externalId, second.operation.externalId],
      filedOn,
      major,
    };
    const outcome = rng.weighted([['decide', 88], ['transfer', 3], ['terminate', 2], ['pending', 7]] as const);
    const decideAfter = rng.chance(0.08) ? rng.int(91, 150) : rng.int(3, 85);
    if (major) {
      data['stage'] = age > 30 ? 'legal_review' : 'investigating';
    } else if (outcome === 'transfer' && age > 10) {
      Object.assign(data, { stage: 'transferred', transferredTo: rng.pick(['公安机关', '生态环境部门', '自然资源部门']) });
    } else if (outcome === 'terminate' && age > 10) {
      data['stage'] = 'terminated';
    } else if (outcome === 'decide' && decideAfter < age) {
      const decidedOn = addDays(filedOn, decideAfter);
      const penalties: readonly string[] = rng.weighted<readonly string[]>([
        [['fine'], 55], [['warning'], 20], [['fine', 'confiscation_of_gains'], 8], [['fine', 'confiscation_of_property'], 7],
        [['confiscation_of_property'], 4], [['fine', 'suspension_order'], 3], [['license_revocation', 'fine'], 2], [['public_criticism'], 1],
      ]);
      Object.assign(data, { stage: 'decided', decidedOn, penalties: [...penalties] });
      if (penalties.includes('fine')) data['fineFen'] = rng.int(2, 500) * 10_000;
      if (penalties.includes('confiscation_of_gains')) data['confiscationFen'] = rng.int(1, 200) * 10_000;
      const executedOn = addDays(decidedOn, rng.int(1, 20));
      if (executedOn < today && rng.chance(0.85)) {
        Object.assign(data, { stage: 'executed', executedOn });
        const closedOn = addDays(executedOn, rng.int(1, 15));
        if (closedOn < today && rng.chance(0.9)) Object.assign(data, { stage: 'closed', closedOn });
      }
    } else {
      data['stage'] = age > 60 ? 'notified' : age > 5 ? 'investigating' : 'filed';
    }
    out.push({ op: 'upsert', collection: 'cases', regionCode, externalId: `${regionCode}-CASE-${String(i + 1).padStart(5, '0')}`, data });
  }
  return out;
}

/** Short city names used in case numbers (郑城管罚字…). */
const HENAN_CITY_SHORT: Record<string, string> = { '4101': '郑', '4102': '汴', '4103': '洛', '4104': '平', '4105': '安', '4107': '新', '4113': '宛', '4190': '济' };

// ---- the demo set -----------------------------------------------------------------------------

export interface DemoDatasetOptions {
  seed?: Seed;
  /** Number of officers; about 300 for the demo. */
  officers?: number;
  /** YYYY-MM-DD; credentials' expiry dates are placed relative to it. */
  today: string;
  /** Number of cases to try (a few are skipped when no two qualified handlers share a region); 4 per officer by default. */
  cases?: number;
}

export interface DemoDataset {
  seed: Seed;
  today: string;
  orgUnits: UpsertOperation[];
  officers: UpsertOperation[];
  credentials: UpsertOperation[];
  postStatuses: UpsertOperation[];
  assistants: UpsertOperation[];
  equipment: UpsertOperation[];
  allocations: UpsertOperation[];
  trainings: UpsertOperation[];
  assessments: UpsertOperation[];
  /** A year of cases (filed over the year before `today`). */
  cases: UpsertOperation[];
  /** References across regions, resolved by the writer (see `CrossRegionLink`). */
  links: CrossRegionLink[];
  /** The generated officers with their traits, in the order of `officers`. */
  people: GeneratedOfficer[];
}

export const DEFAULT_SEED = 20_240_601;

/** Org units, ~300 officers, their credentials and every other record type, in the order they must be written. */
export function demoDataset(options: DemoDatasetOptions): DemoDataset {
  const seed = options.seed ?? DEFAULT_SEED;
  const units = demoOrgUnits();
  const people = generateOfficers({ seed, count: options.officers ?? 300, workplaces: units.workplaces });
  const credentials = credentialOps({ seed, officers: people, today: options.today, oneSuspended: true });
  return {
    seed,
    today: options.today,
    orgUnits: units.operations,
    officers: people.map((p) => p.operation),
    credentials,
    ...personnelOps({ seed, people, credentials, workplaces: units.workplaces, today: options.today }),
    cases: caseOps({ seed, officers: people, credentials, today: options.today, count: options.cases ?? 4 * (options.officers ?? 300) }),
    links: units.links,
    people,
  };
}
