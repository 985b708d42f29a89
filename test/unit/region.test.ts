import { describe, it, expect } from 'vitest';
import { commonRegion, coveragePrefix, covers, HENAN_CITIES, REGION_CODE_PATTERN } from '../../src/domain/region.js';

describe('coveragePrefix', () => {
  it('uses 2 digits for provinces, 4 for cities, all 6 otherwise', () => {
    expect(coveragePrefix('410000')).toBe('41');
    expect(coveragePrefix('410100')).toBe('4101');
    expect(coveragePrefix('419000')).toBe('4190');
    expect(coveragePrefix('410105')).toBe('410105');
    expect(coveragePrefix('419001')).toBe('419001');
  });

  it('throws on malformed codes', () => {
    expect(() => coveragePrefix('41000')).toThrow(RangeError);
    expect(() => coveragePrefix('41010a')).toThrow(RangeError);
  });
});

describe('covers', () => {
  it('lets a province see every code in it', () => {
    expect(covers('410000', '410105')).toBe(true);
    expect(covers('410000', '419001')).toBe(true);
    expect(covers('410000', '410000')).toBe(true);
    expect(covers('410000', '420100')).toBe(false);
  });

  it('lets a city see its own districts only', () => {
    expect(covers('410100', '410105')).toBe(true);
    expect(covers('410100', '410185')).toBe(true);
    expect(covers('410100', '410100')).toBe(true);
    expect(covers('410100', '410200')).toBe(false);
    expect(covers('410100', '410000')).toBe(false);
    expect(covers('419000', '419001')).toBe(true);
  });

  it('lets a district see only itself', () => {
    expect(covers('410105', '410105')).toBe(true);
    expect(covers('410105', '410106')).toBe(false);
    expect(covers('410105', '410100')).toBe(false);
  });

  it('fails closed on malformed input', () => {
    expect(covers('41', '410105')).toBe(false);
    expect(covers('410000', '41')).toBe(false);
    expect(covers('', '')).toBe(false);
  });
});

describe('HENAN_CITIES', () => {
  it('has the province, 17 cities, 济源 and Zhengzhou districts', () => {
    expect(HENAN_CITIES['410000']).toBe('河南省');
    expect(HENAN_CITIES['410100']).toBe('郑州市');
    expect(HENAN_CITIES['411700']).toBe('驻马店市');
    expect(HENAN_CITIES['419001']).toBe('济源市');
    expect(HENAN_CITIES['410105']).toBe('金水区');
    const cities = Object.keys(HENAN_CITIES).filter((c) => /^41\d{2}00$/.test(c) && c !== '410000' && c !== '419000');
    expect(cities).toHaveLength(17);
  });

  it('contains only well-formed codes inside Henan', () => {
    for (const code of Object.keys(HENAN_CITIES)) {
      expect(code).toMatch(REGION_CODE_PATTERN);
      expect(covers('410000', code)).toBe(true);
    }
  });
});

describe('commonRegion', () => {
  it('is the narrowest district, city or province covering every code', () => {
    expect(commonRegion(['410105'])).toBe('410105');
    expect(commonRegion(['410105', '410105'])).toBe('410105');
    expect(commonRegion(['410105', '410102'])).toBe('410100');
    expect(commonRegion(['410100', '410102'])).toBe('410100');
    expect(commonRegion(['410105', '410302'])).toBe('410000');
    expect(commonRegion(['419001', '410102'])).toBe('410000');
    // 410001 and 410002 share 4100, but 410000 is the province: its coverage is the whole of 41.
    expect(commonRegion(['410001', '410002'])).toBe('410000');
    expect(commonRegion(['410105', '420102'])).toBeUndefined();
    expect(commonRegion([])).toBeUndefined();
    expect(commonRegion(['41010x'])).toBeUndefined();
  });

  it('covers each code, and a reader covering it covers each code too', () => {
    const codes = [...Object.keys(HENAN_CITIES), '420100', '420102', '410001'];
    for (const a of codes) {
      for (const b of codes) {
        const common = commonRegion([a, b]);
        if (common === undefined) {
          expect(a.slice(0, 2)).not.toBe(b.slice(0, 2));
          continue;
        }
        expect(covers(common, a) && covers(common, b), `${a} ${b} → ${common}`).toBe(true);
        for (const reader of codes) {
          if (covers(reader, common)) expect(covers(reader, a) && covers(reader, b), `${reader} covers ${common}`).toBe(true);
        }
      }
    }
  });
});
