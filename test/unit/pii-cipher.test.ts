import { describe, expect, it } from 'vitest';
import { createPiiCipher, generatePiiKey } from '../../src/security/pii.js';

describe('PII cipher', () => {
  it('never uses an IV twice, across refills of its pool of random bytes, and decrypts what it wrote', () => {
    const cipher = createPiiCipher(generatePiiKey());
    const plain = '410105199001011234';
    const stored = Array.from({ length: 2000 }, () => cipher.encrypt(plain));
    const ivs = stored.map((s) => s.split('.')[1]);
    expect(new Set(ivs).size).toBe(stored.length);
    expect(new Set(ivs.map((iv) => Buffer.from(iv!, 'base64url').length))).toEqual(new Set([12]));
    for (const s of stored.slice(0, 400)) expect(cipher.decrypt(s)).toBe(plain);
  });

  it('refuses a ciphertext altered or made with another key', () => {
    const cipher = createPiiCipher(generatePiiKey());
    const stored = cipher.encrypt('13800138000');
    const [format, iv, tag, body] = stored.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => cipher.decrypt([format, iv, tag, flipped.toString('base64url')].join('.'))).toThrow();
    expect(() => createPiiCipher(generatePiiKey()).decrypt(stored)).toThrow();
  });
});
