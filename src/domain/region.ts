// 行政区划代码, GB/T 2260, and the coverage rule used for data scoping: a
// province-level code (AA0000) covers its whole province, a city-level code
// (AABB00) covers its city, anything else covers only itself.

export const REGION_CODE_PATTERN = /^\d{6}$/;

/** The prefix every code covered by `region` starts with. Throws on a non-6-digit code. */
export function coveragePrefix(region: string): string {
  if (!REGION_CODE_PATTERN.test(region)) throw new RangeError(`region code must be 6 digits, got ${JSON.stringify(region)}`);
  if (region.endsWith('0000')) return region.slice(0, 2);
  if (region.endsWith('00')) return region.slice(0, 4);
  return region;
}

/**
 * Whether a caller scoped to `callerRegion` may see records of region `code`.
 * Malformed input on either side yields false (fail closed: this guards access).
 */
export function covers(callerRegion: string, code: string): boolean {
  if (!REGION_CODE_PATTERN.test(callerRegion) || !REGION_CODE_PATTERN.test(code)) return false;
  return code.startsWith(coveragePrefix(callerRegion));
}

/**
 * A region covering every one of `codes` — their common district, city or province, the narrowest that
 * `covers` all of them — or undefined when they lie in different provinces (or are malformed).
 */
export function commonRegion(codes: readonly string[]): string | undefined {
  const [first] = codes;
  if (first === undefined || !codes.every((c) => REGION_CODE_PATTERN.test(c))) return undefined;
  for (const length of [6, 4, 2]) {
    const prefix = first.slice(0, length);
    if (!codes.every((c) => c.startsWith(prefix))) continue;
    const region = prefix.padEnd(6, '0');
    // e.g. 410100 and 410102 share 4101 → 410100; 410100 alone → itself; a pair under 4100 → 410000.
    if (codes.every((c) => covers(region, c))) return region;
  }
  return undefined;
}

/** Henan province, its cities and some Zhengzhou districts (for demo and seed data). */
export const HENAN_CITIES: Record<string, string> = {
  '410000': '河南省',
  '410100': '郑州市',
  '410200': '开封市',
  '410300': '洛阳市',
  '410400': '平顶山市',
  '410500': '安阳市',
  '410600': '鹤壁市',
  '410700': '新乡市',
  '410800': '焦作市',
  '410900': '濮阳市',
  '411000': '许昌市',
  '411100': '漯河市',
  '411200': '三门峡市',
  '411300': '南阳市',
  '411400': '商丘市',
  '411500': '信阳市',
  '411600': '周口市',
  '411700': '驻马店市',
  '419000': '省直辖县级行政区划',
  '419001': '济源市',
  // Zhengzhou districts, counties and county-level cities
  '410102': '中原区',
  '410103': '二七区',
  '410104': '管城回族区',
  '410105': '金水区',
  '410106': '上街区',
  '410108': '惠济区',
  '410122': '中牟县',
  '410181': '巩义市',
  '410182': '荥阳市',
  '410183': '新密市',
  '410184': '新郑市',
  '410185': '登封市',
};
