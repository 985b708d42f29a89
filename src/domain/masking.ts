// Display masking for personal information (PIPL 个人信息保护法 minimisation):
// keep just enough to recognise a value, replace every other character with
// '*' so the length is preserved.

function maskKeeping(value: string, keepStart: number, keepEnd: number): string {
  const chars = Array.from(value); // code points, so a stray non-BMP char is one unit
  const n = chars.length;
  if (n <= 2) return '*'.repeat(n); // nothing meaningful can be shown without revealing it all
  // Too short to keep both ends: show only the last two characters.
  if (n < keepStart + keepEnd + 1) return '*'.repeat(n - 2) + chars.slice(-2).join('');
  return chars.slice(0, keepStart).join('') + '*'.repeat(n - keepStart - keepEnd) + chars.slice(n - keepEnd).join('');
}

/** '410105199001011234' → '410***********1234' (first 3 and last 4 kept). */
export function maskIdCard(value: string): string {
  return maskKeeping(value, 3, 4);
}

/** '13812345678' → '138****5678'; values shorter than 8 characters keep only the last 2. */
export function maskPhone(value: string): string {
  return maskKeeping(value, 3, 4);
}
