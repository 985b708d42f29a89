import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import {
  describeCodes,
  EDUCATION,
  EDUCATION_CODES,
  ETHNICITY,
  ETHNICITY_CODES,
  GENDER,
  GENDER_CODES,
  POLITICAL_STATUS,
  POLITICAL_STATUS_CODES,
} from '../../src/domain/code-tables.js';

describe('gender (GB/T 2261.1)', () => {
  it('has 0, 1, 2 and 9', () => {
    expect(GENDER).toEqual(['0', '1', '2', '9']);
    expect(GENDER_CODES['1']).toBe('男');
    expect(GENDER_CODES['2']).toBe('女');
  });
});

describe('ethnicity (GB/T 3304)', () => {
  it('has 58 codes: 01–56, 97 and 98', () => {
    expect(ETHNICITY).toHaveLength(58);
    expect(ETHNICITY[0]).toBe('01');
    expect(ETHNICITY.slice(-2)).toEqual(['97', '98']);
    expect(ETHNICITY).not.toContain('57');
    expect(ETHNICITY).not.toContain('99');
  });

  it('keeps 土家族 and 哈尼族 on separate codes 15 and 16', () => {
    expect(ETHNICITY_CODES['15']).toBe('土家族');
    expect(ETHNICITY_CODES['16']).toBe('哈尼族');
    expect(ETHNICITY_CODES['01']).toBe('汉族');
    expect(ETHNICITY_CODES['56']).toBe('基诺族');
    expect(new Set(Object.values(ETHNICITY_CODES)).size).toBe(58);
  });
});

describe('political status (GB/T 4762)', () => {
  it('has 01–13', () => {
    expect(POLITICAL_STATUS).toHaveLength(13);
    expect(POLITICAL_STATUS_CODES['01']).toBe('中国共产党党员');
    expect(POLITICAL_STATUS_CODES['13']).toBe('群众');
  });
});

describe('education (GB/T 4658)', () => {
  it('uses two-digit codes from 10, never 01–08', () => {
    for (const code of ['01', '02', '05', '08']) expect(EDUCATION).not.toContain(code);
    expect(EDUCATION_CODES['21']).toBe('大学本科毕业');
    expect(EDUCATION_CODES['28']).toBe('大学普通班毕业');
    expect(EDUCATION_CODES['72']).toBe('初中肄业');
  });

  it('includes the group codes and nothing outside the table', () => {
    for (const code of ['10', '20', '30', '40', '60', '70', '80', '90']) expect(EDUCATION).toContain(code);
    expect(EDUCATION).toHaveLength(40);
    for (const code of ['24', '50', '73', '83', '99']) expect(EDUCATION).not.toContain(code);
  });
});

describe('code tuples', () => {
  it('are sorted and match the table keys', () => {
    for (const [tuple, table] of [
      [GENDER, GENDER_CODES],
      [ETHNICITY, ETHNICITY_CODES],
      [POLITICAL_STATUS, POLITICAL_STATUS_CODES],
      [EDUCATION, EDUCATION_CODES],
    ] as const) {
      expect([...tuple]).toEqual(Object.keys(table).sort());
    }
  });

  it('are accepted by z.enum', () => {
    const ethnicity = z.enum(ETHNICITY);
    expect(ethnicity.parse('15')).toBe('15');
    expect(ethnicity.safeParse('57').success).toBe(false);
    expect(z.enum(GENDER).safeParse('3').success).toBe(false);
    expect(z.enum(EDUCATION).safeParse('01').success).toBe(false);
    expect(z.enum(POLITICAL_STATUS).parse('13')).toBe('13');
  });
});

describe('describeCodes', () => {
  it('lists code and label pairs in code order', () => {
    expect(describeCodes(GENDER_CODES)).toBe('0 未知的性别; 1 男; 2 女; 9 未说明的性别');
    expect(describeCodes({ '2': '女', '1': '男' })).toBe('1 男; 2 女');
    expect(describeCodes(ETHNICITY_CODES).startsWith('01 汉族; 02 蒙古族;')).toBe(true);
  });
});
