import { describe, it, expect } from 'vitest';
import {
  checkCreditCode,
  creditCodeCheckChar,
  CREDIT_CODE_PATTERN,
  makeCreditCode,
  organizationCodeCheckChar,
} from '../../src/domain/credit-code.js';

// Published codes found in public documents (see the comment in credit-code.ts).
const REAL_CODES = [
  '11410182005291054B', // 荥阳市司法局
  '11140800558745220K', // 晋中市文化和旅游局
  '12100000470095016Q', // 浙江大学
  '12310000425022547M', // 上海工程技术大学
  '53100000500019795A', // a national foundation registered with 民政部
  '91330100470102706G',
  '91330201MA282UF146',
  '91440300MA5H0HLK5U',
  '91512081MA62K0260E',
  '92420102MAKJME5F3R',
];

describe('checkCreditCode', () => {
  it.each(REAL_CODES)('accepts the published code %s', (code) => {
    expect(checkCreditCode(code)).toEqual({ ok: true });
  });

  it.each([
    ['9141010000000000', /18 characters, got 16/],
    ['91330201ma282uf146', /uppercase/],
    ['91330201MA282UFI46', /contains I/],
    ['91330201MA282UFO46', /contains O/],
    ['913302A1MA282UF146', /3–8 must be the 6-digit region code/],
    ['91330201MA282UF14-', /may contain only/],
  ])('reports format for %j', (value, message) => {
    const result = checkCreditCode(value);
    expect(result).toMatchObject({ ok: false, reason: 'format' });
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('reports a wrong check character and names the expected one', () => {
    expect(checkCreditCode('11410182005291054C')).toEqual({
      ok: false,
      reason: 'check_char',
      message: 'check character is C but the first 17 characters require B',
    });
  });

  it('reports a 主体标识码 whose GB 11714 check fails even when the MOD 31 check passes', () => {
    // Real code with the organization code's check digit changed from 4 to 5
    // and the final character recomputed so only the GB 11714 check fails.
    const first17 = '11410182005291055';
    const value = first17 + creditCodeCheckChar(first17);
    const result = checkCreditCode(value);
    expect(result).toMatchObject({ ok: false, reason: 'organization_code' });
    if (!result.ok) expect(result.message).toMatch(/005291055.*requires 4/);
  });
});

describe('creditCodeCheckChar', () => {
  it('computes the MOD 31 character', () => {
    expect(creditCodeCheckChar('91330201MA282UF14')).toBe('6');
    expect(creditCodeCheckChar('11140800558745220')).toBe('K');
  });

  it('throws on characters outside the alphabet or a wrong length', () => {
    expect(() => creditCodeCheckChar('9133020IMA282UF14')).toThrow(RangeError);
    expect(() => creditCodeCheckChar('91330201MA282UF1')).toThrow(RangeError);
  });
});

describe('organizationCodeCheckChar (GB 11714)', () => {
  it('values letters A=10…Z=35 as in real MA… codes', () => {
    expect(organizationCodeCheckChar('MA282UF1')).toBe('4');
    expect(organizationCodeCheckChar('MA28ADM6')).toBe('7');
  });

  it('maps 10 to X and 11 to 0', () => {
    expect(organizationCodeCheckChar('40000000')).toBe('X'); // Σ = 12, 12 mod 11 = 1, 11 − 1 = 10
    expect(organizationCodeCheckChar('00000000')).toBe('0'); // Σ = 0, 11 − 0 = 11
    expect(organizationCodeCheckChar('00000001')).toBe('9'); // Σ = 2
    expect(organizationCodeCheckChar('00529105')).toBe('4');
  });

  it('throws unless given 8 digits or capitals', () => {
    expect(() => organizationCodeCheckChar('0052910')).toThrow(RangeError);
    expect(() => organizationCodeCheckChar('0052910a')).toThrow(RangeError);
  });
});

describe('makeCreditCode', () => {
  it('produces codes that pass both checks', () => {
    for (let serial = 0; serial < 100_000_000; serial += 7_654_321) {
      const code = makeCreditCode({ regionCode: '410100', serial });
      expect(code).toMatch(CREDIT_CODE_PATTERN);
      expect(checkCreditCode(code)).toEqual({ ok: true });
    }
  });

  it('lays out department, category, region and serial', () => {
    const code = makeCreditCode({ registrationDept: '1', orgCategory: '1', regionCode: '410105', serial: 529105 });
    expect(code.slice(0, 8)).toBe('11410105');
    expect(code.slice(8, 17)).toBe('005291054');
    expect(checkCreditCode(code)).toEqual({ ok: true });
    expect(makeCreditCode({ regionCode: '410100', serial: 1 }).slice(0, 2)).toBe('91');
  });

  it('rejects bad options', () => {
    expect(() => makeCreditCode({ regionCode: '4101', serial: 1 })).toThrow(RangeError);
    expect(() => makeCreditCode({ regionCode: '410100', serial: 100_000_000 })).toThrow(RangeError);
    expect(() => makeCreditCode({ regionCode: '410100', serial: -1 })).toThrow(RangeError);
    expect(() => makeCreditCode({ registrationDept: 'I', regionCode: '410100', serial: 1 })).toThrow(RangeError);
    expect(() => makeCreditCode({ orgCategory: '12', regionCode: '410100', serial: 1 })).toThrow(RangeError);
  });
});
