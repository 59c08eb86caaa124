/**
 * China's 12-digit statistical division codes (统计用区划代码): 2 digits province, 2 city,
 * 2 county/district, 3 street/town, 3 community/village. A unit's code is its parent's code
 * with its own digits filled in, so every ancestor can be read off the code itself.
 */
export type RegionLevel = 'PROVINCE' | 'CITY' | 'COUNTY' | 'STREET' | 'COMMUNITY';

const LEVEL_DIGITS: Record<RegionLevel, number> = { PROVINCE: 2, CITY: 4, COUNTY: 6, STREET: 9, COMMUNITY: 12 };
const LEVELS: RegionLevel[] = ['PROVINCE', 'CITY', 'COUNTY', 'STREET', 'COMMUNITY'];

export const REGION_LEVEL_LABELS: Record<RegionLevel, { zh: string; en: string }> = {
  PROVINCE: { zh: '省', en: 'province' },
  CITY: { zh: '市', en: 'city' },
  COUNTY: { zh: '县/区', en: 'county/district' },
  STREET: { zh: '街道/镇', en: 'street/town' },
  COMMUNITY: { zh: '社区/村', en: 'community/village' },
};

export function isRegionCode(code: string): boolean {
  return /^\d{12}$/.test(code) && regionLevel(code) !== undefined;
}

export function regionLevel(code: string): RegionLevel | undefined {
  if (!/^\d{12}$/.test(code) || code.startsWith('00')) return undefined;
  for (const level of LEVELS) {
    if (/^0*$/.test(code.slice(LEVEL_DIGITS[level]))) return level;
  }
  return undefined;
}

/** The code of the unit that contains `code` at `level` (`130203001001` at STREET → `130203001000`). */
export function regionAt(code: string, level: RegionLevel): string {
  const digits = LEVEL_DIGITS[level];
  return code.slice(0, digits).padEnd(12, '0');
}

/**
 * Every unit from the province down to `code` itself. Stored on records as `regionPath`, so "all
 * records in this subtree" is one equality match on an indexed array — no prefix scans, no joins.
 */
export function regionPath(code: string): string[] {
  const level = regionLevel(code);
  if (!level) throw new Error(`Not a 12-digit region code: ${code}`);
  const depth = LEVELS.indexOf(level);
  return LEVELS.slice(0, depth + 1).map((l) => regionAt(code, l));
}

export function parentRegion(code: string): string | undefined {
  const path = regionPath(code);
  return path.length > 1 ? path[path.length - 2] : undefined;
}

/** True when `code` lies inside the subtree rooted at `scope` (or is `scope`). */
export function regionWithin(code: string, scope: string): boolean {
  return regionPath(code).includes(scope);
}
