import { describe, it, expect } from 'vitest';
import { maskIdCard, maskPhone } from '../../src/domain/masking.js';

describe('maskIdCard', () => {
  it('keeps the first 3 and last 4 characters and the length', () => {
    expect(maskIdCard('410105199001011234')).toBe('410***********1234');
    expect(maskIdCard('11010519491231002X')).toBe('110***********002X');
    expect(maskIdCard('410105199001011234')).toHaveLength(18);
  });

  it('hides the birth date and sequence entirely', () => {
    expect(maskIdCard('410105199001011234')).not.toContain('19900101');
  });

  it('keeps only the last 2 of short values', () => {
    expect(maskIdCard('1234567')).toBe('*****67');
  });
});

describe('maskPhone', () => {
  it('keeps the first 3 and last 4 digits', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
  });

  it('masks at least one character at length 8', () => {
    expect(maskPhone('12345678')).toBe('123*5678');
  });

  it('keeps only the last 2 characters below length 8', () => {
    expect(maskPhone('1234567')).toBe('*****67');
    expect(maskPhone('123')).toBe('*23');
  });

  it('masks tiny values completely and leaves empty strings empty', () => {
    expect(maskPhone('12')).toBe('**');
    expect(maskPhone('')).toBe('');
  });

  it('keeps the length of landline numbers with separators', () => {
    const masked = maskPhone('0371-67181234');
    expect(masked).toBe('037******1234');
    expect(masked).toHaveLength(13);
  });
});
