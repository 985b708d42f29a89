// 统一社会信用代码, GB 32100-2015 (domain-notes §3.5). Layout:
//   [1] 登记管理部门  [2] 机构类别  [3–8] 行政区划 (GB/T 2260)
//   [9–17] 主体标识码 = 组织机构代码 (GB 11714)  [18] check character
// Two checks apply: the MOD 31 check over the first 17 characters, and the
// GB 11714 check character that ends the 9-char 主体标识码 (position 17).
//
// GB 11714 check (notes marked it [U]; verified here): weights [3,7,9,10,5,8,4,2],
// c = 11 − (Σ value × weight mod 11), 10 → 'X', 11 → '0'. Letters take their
// position in the full Latin alphabet: A=10, B=11, …, Z=35 (so M=22, U=30), NOT
// their index in the GB 32100 alphabet (which skips I/O/S/V/Z). The GB 32100-index
// variant seen on some web pages fails every real code with letters in it.
// Verified against published codes (all pass both checks):
//   government bodies 11410182005291054B (荥阳市司法局, court ruling),
//   11140800558745220K (晋中市文化和旅游局); public institutions
//   12100000470095016Q (浙江大学), 12100000425006117P (复旦大学),
//   12310000425022547M (上海工程技术大学), 12650000457601471G (新疆大学);
//   foundations/associations 53100000500019795A, 51310110501144395U;
//   companies 91330100470102706G, 91420100568359390C, 91440106074639077N, 91140106713678575D;
//   post-2015 "MA…" codes with letters 91330201MA282UF146, 91330401MA28ADM67R,
//   91440300MA5H0HLK5U, 91512081MA62K0260E, 91110112MAE7E8FC0K,
//   91110117MABWGRQU85, 92230109MAKCUYD46K, 92420102MAKJME5F3R.
// Every code found that failed the GB 11714 check also failed the MOD 31 check
// (i.e. it was mistyped), so enforcing it rejects no genuine code we saw.

export type CreditCodeCheck =
  | { ok: true }
  | { ok: false; reason: 'format' | 'check_char' | 'organization_code'; message: string };

/** GB 32100 character set: digits and capitals without I, O, S, V, Z; index = numeric value. */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

export const CREDIT_CODE_PATTERN = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;

const CREDIT_WEIGHTS = Array.from({ length: 17 }, (_, i) => 3 ** i % 31); // 1,3,9,27,19,26,16,…
const ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2] as const;

function creditValue(ch: string): number {
  return CREDIT_CODE_ALPHABET.indexOf(ch);
}

// GB 11714 values: 0–9 for digits, A=10 … Z=35 for letters.
function orgValue(ch: string): number {
  return Number.parseInt(ch, 36);
}

/** MOD 31 check character (position 18) for the first 17 characters. */
export function creditCodeCheckChar(first17: string): string {
  if (first17.length !== 17 || [...first17].some((ch) => creditValue(ch) < 0)) {
    throw new RangeError(`expected 17 characters from ${CREDIT_CODE_ALPHABET}, got ${JSON.stringify(first17)}`);
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += creditValue(first17[i]!) * CREDIT_WEIGHTS[i]!;
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** GB 11714 check character (0–9 or X) for the 8-character body of an organization code. */
export function organizationCodeCheckChar(first8: string): string {
  if (!/^[0-9A-Z]{8}$/.test(first8)) throw new RangeError(`expected 8 digits or capitals, got ${JSON.stringify(first8)}`);
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += orgValue(first8[i]!) * ORG_WEIGHTS[i]!;
  const c = 11 - (sum % 11);
  return c === 10 ? 'X' : c === 11 ? '0' : String(c);
}

function formatMessage(value: string): string {
  if (value.length !== 18) return `must be 18 characters, got ${value.length}`;
  if (/[a-z]/.test(value)) return 'letters must be uppercase';
  const forbidden = value.match(/[IOSVZ]/);
  if (forbidden) return `contains ${forbidden[0]}; the letters I, O, S, V and Z are never used`;
  if (!/^.{2}\d{6}/.test(value)) return 'characters 3–8 must be the 6-digit region code';
  return 'may contain only digits and the capitals A–H, J–N, P, Q, R, T, U, W, X, Y';
}

/** Validates a credit code: format, then the MOD 31 check character, then the GB 11714 check of the 主体标识码. */
export function checkCreditCode(value: string): CreditCodeCheck {
  if (!CREDIT_CODE_PATTERN.test(value)) return { ok: false, reason: 'format', message: formatMessage(value) };

  const expected = creditCodeCheckChar(value.slice(0, 17));
  if (value[17] !== expected) {
    return {
      ok: false,
      reason: 'check_char',
      message: `check character is ${value[17]} but the first 17 characters require ${expected}`,
    };
  }

  const orgCode = value.slice(8, 17);
  const orgExpected = organizationCodeCheckChar(orgCode.slice(0, 8));
  if (orgCode[8] !== orgExpected) {
    return {
      ok: false,
      reason: 'organization_code',
      message: `organization code ${orgCode} (characters 9–17) ends in ${orgCode[8]} but its GB 11714 check requires ${orgExpected}`,
    };
  }
  return { ok: true };
}

/**
 * Builds a valid credit code for seed data, benchmarks and tests. `serial`
 * (0..99 999 999) becomes the 8-digit body of the 主体标识码. Defaults: 登记管理部门
 * '9' (市场监管/工商) and 机构类别 '1' (企业).
 */
export function makeCreditCode(opts: {
  registrationDept?: string;
  orgCategory?: string;
  regionCode: string;
  serial: number;
}): string {
  const { registrationDept = '9', orgCategory = '1', regionCode, serial } = opts;
  for (const [name, ch] of [['registrationDept', registrationDept], ['orgCategory', orgCategory]] as const) {
    if (ch.length !== 1 || creditValue(ch) < 0) {
      throw new RangeError(`${name} must be one character from ${CREDIT_CODE_ALPHABET}, got ${JSON.stringify(ch)}`);
    }
  }
  if (!/^\d{6}$/.test(regionCode)) throw new RangeError(`regionCode must be 6 digits, got ${JSON.stringify(regionCode)}`);
  if (!Number.isInteger(serial) || serial < 0 || serial > 99_999_999) {
    throw new RangeError(`serial must be an integer 0..99999999, got ${serial}`);
  }
  const body = String(serial).padStart(8, '0');
  const first17 = registrationDept + orgCategory + regionCode + body + organizationCodeCheckChar(body);
  return first17 + creditCodeCheckChar(first17);
}
