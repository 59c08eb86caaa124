import type { z } from 'zod';
import { regionWithin } from '@yiyang/geo';
import { CATEGORY_LABELS_ZH, columnSpec, parseCategories, parseGender, type ColumnKey, type HeaderMap } from './roster-columns';

/** One problem with one row, in the bureau's terms: the spreadsheet row number and the column header. */
export interface RowError {
  row: number;
  column: string;
  reason: string;
  reasonZh: string;
  code: string;
}

export type RowCells = ReadonlyMap<ColumnKey, unknown>;

/** A cell as text: exceljs hands out rich text, hyperlinks, formula results and dates. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if (typeof value === 'object') {
    const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: string };
    if (v.richText) return v.richText.map((r) => r.text).join('').trim();
    if (v.text !== undefined) return cellText(v.text);
    if (v.result !== undefined) return cellText(v.result);
    if (v.error) return '';
  }
  return String(value).trim();
}

/** Excel serial day 1 = 1900-01-01, with Lotus' phantom 1900-02-29; 25569 = 1970-01-01. */
function excelSerialToIso(serial: number): string {
  return new Date(Math.round((serial - 25_569) * 86_400_000)).toISOString().slice(0, 10);
}

/** "1948-5-12", "1948/05/12", "1948.05.12", "19480512", an Excel date → "1948-05-12". */
function normaliseDate(value: unknown): string | undefined {
  if (value instanceof Date) return cellText(value);
  if (typeof value === 'number' && value > 1 && value < 80_000) return excelSerialToIso(value);
  const text = cellText(value);
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(text);
  if (!m) m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  return m ? `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}` : text || undefined;
}

const PATH_TO_COLUMN: Record<string, ColumnKey> = {
  name: 'name',
  gender: 'gender',
  idCardNumber: 'idCardNumber',
  birthDate: 'birthDate',
  phone: 'phone',
  regionCode: 'regionCode',
  homeAddress: 'homeAddress',
  'home.lat': 'lat',
  'home.lng': 'lng',
  home: 'lat',
  categories: 'categories',
  'guardians.0.name': 'guardianName',
  'guardians.0.relation': 'guardianRelation',
  'guardians.0.phone': 'guardianPhone',
  guardians: 'guardianName',
  caregiverGender: 'caregiverGender',
};

/** Maps an ElderInput field path (`home.lat`, `guardians.0.phone`) to the key of the column it came from. */
export function columnKeyOfField(field: string): ColumnKey | undefined {
  return PATH_TO_COLUMN[field] ?? PATH_TO_COLUMN[field.split('.')[0]];
}

export function headerFor(header: HeaderMap, key: ColumnKey | undefined, fallback: string): string {
  if (!key) return fallback;
  return header.headerOf.get(key) ?? columnSpec(key).zh;
}

/** A zod issue in words a bureau clerk reads: "不能为空" rather than "Too small: expected string…". */
function zhReason(issue: z.core.$ZodIssue, column: string): string {
  const { code } = issue;
  if (code === 'invalid_type' && (issue as { input?: unknown }).input === undefined) return `${column}：缺少必填值`;
  if (code === 'too_small' && (issue as { origin?: string }).origin === 'string' && (issue as { minimum?: unknown }).minimum === 1) {
    return `${column}：不能为空`;
  }
  if (code === 'too_small' || code === 'too_big') return `${column}：数值或长度超出允许范围（${issue.message}）`;
  if (code === 'invalid_format') return `${column}：格式不正确（${issue.message}）`;
  if (code === 'invalid_value') return `${column}：取值不在允许范围内（${issue.message}）`;
  return `${column}：${issue.message}`;
}

export function zodRowErrors(row: number, header: HeaderMap, error: z.ZodError): RowError[] {
  // One entry per column: a clerk fixes a cell, not a list of three complaints about it.
  const seen = new Set<string>();
  const out: RowError[] = [];
  for (const issue of error.issues) {
    const field = issue.path.map(String).join('.');
    const column = headerFor(header, columnKeyOfField(field), field || '(行)');
    if (seen.has(column)) continue;
    seen.add(column);
    out.push({ row, column, reason: field ? `${field}: ${issue.message}` : issue.message, reasonZh: zhReason(issue, column), code: 'VALIDATION.INVALID_INPUT' });
  }
  return out;
}

/**
 * Turns one spreadsheet row into the object ElderInput validates. What zod cannot say in the
 * bureau's words (a gender written 男/女, a category label, coordinates typed as text, an ID that
 * Excel turned into a float, a community outside the caller's scope) is checked here first.
 */
export function rowToCandidate(
  row: number,
  cells: RowCells,
  header: HeaderMap,
  scopeRegion: string,
): { candidate: Record<string, unknown>; errors: RowError[] } {
  const errors: RowError[] = [];
  const fail = (key: ColumnKey, code: string, reason: string, reasonZh: string) =>
    errors.push({ row, column: headerFor(header, key, key), code, reason, reasonZh });
  const text = (key: ColumnKey) => cellText(cells.get(key));
  const optional = (key: ColumnKey) => text(key) || undefined;

  const candidate: Record<string, unknown> = { name: optional('name'), homeAddress: optional('homeAddress') };

  const genderRaw = text('gender');
  if (genderRaw) {
    const gender = parseGender(genderRaw);
    if (gender) candidate['gender'] = gender;
    else fail('gender', 'ROSTER.GENDER_INVALID', `gender "${genderRaw}" must be 男 or 女 (MALE/FEMALE)`, `性别“${genderRaw}”无效，应填写“男”或“女”`);
  }

  const idRaw = cells.get('idCardNumber');
  if (typeof idRaw === 'number') {
    // An 18-digit number does not fit a double: Excel has already rounded the last digits away.
    fail(
      'idCardNumber',
      'ROSTER.ID_STORED_AS_NUMBER',
      'the ID-card number was stored as a number and lost its last digits; format the column as text and re-enter it',
      '身份证号被Excel存为数字，末几位已丢失；请将该列设为“文本”格式后重新录入',
    );
  } else {
    const id = text('idCardNumber').replace(/\s/g, '').toUpperCase();
    candidate['idCardNumber'] = id || undefined;
  }

  const birthDate = normaliseDate(cells.get('birthDate'));
  if (birthDate) candidate['birthDate'] = birthDate;

  const phone = optional('phone');
  if (phone) candidate['phone'] = phone.replace(/[\s-]/g, '');

  const regionCode = text('regionCode');
  if (regionCode) {
    candidate['regionCode'] = regionCode;
    if (/^\d{12}$/.test(regionCode) && !safeWithin(regionCode, scopeRegion)) {
      fail(
        'regionCode',
        'AUTH.FORBIDDEN',
        `community ${regionCode} is outside your scope (${scopeRegion})`,
        `社区 ${regionCode} 不在您的管辖范围（${scopeRegion}）内`,
      );
    }
  }

  const coordinate = (key: 'lat' | 'lng') => {
    const raw = text(key);
    if (!raw) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) {
      fail(key, 'ROSTER.NOT_A_NUMBER', `${key} "${raw}" is not a number`, `${headerFor(header, key, key)}“${raw}”不是数字`);
      return undefined;
    }
    return n;
  };
  const lat = coordinate('lat');
  const lng = coordinate('lng');
  candidate['home'] = lat === undefined && lng === undefined ? undefined : { lat, lng };

  const categoriesRaw = text('categories');
  if (categoriesRaw) {
    const parsed = parseCategories(categoriesRaw);
    if ('unknown' in parsed) {
      fail(
        'categories',
        'ROSTER.CATEGORY_UNKNOWN',
        `unknown category ${parsed.unknown.map((u) => `"${u}"`).join(', ')}; allowed: ${CATEGORY_LABELS_ZH.join('、')}`,
        `未知的人员类别“${parsed.unknown.join('、')}”，可填写：${CATEGORY_LABELS_ZH.join('、')}（多个用“、”分隔）`,
      );
    } else candidate['categories'] = parsed.codes;
  } else candidate['categories'] = [];

  const guardianName = optional('guardianName');
  const guardianRelation = optional('guardianRelation');
  const guardianPhone = optional('guardianPhone');
  if (guardianName || guardianRelation || guardianPhone) {
    // Half a guardian is a row error (zod names the empty cell), not a silently dropped contact.
    candidate['guardians'] = [{ name: guardianName, relation: guardianRelation, phone: guardianPhone?.replace(/[\s-]/g, '') }];
  }

  const caregiverGenderRaw = text('caregiverGender');
  if (caregiverGenderRaw && !/^(不限|无|any)$/i.test(caregiverGenderRaw)) {
    const g = parseGender(caregiverGenderRaw.replace(/性$/, ''));
    if (g) candidate['caregiverGender'] = g;
    else
      fail(
        'caregiverGender',
        'ROSTER.GENDER_INVALID',
        `caregiver gender "${caregiverGenderRaw}" must be 男, 女 or 不限`,
        `护理员性别要求“${caregiverGenderRaw}”无效，应填写“男”“女”或“不限”`,
      );
  }

  // The candidate goes to ElderInput even when something failed here, so one pass reports every bad
  // cell of the row; the caller drops schema complaints about columns already reported.
  return { candidate, errors };
}

function safeWithin(code: string, scope: string): boolean {
  try {
    return regionWithin(code, scope);
  } catch {
    return true; // not a valid division code: ElderInput says so in its own words
  }
}

/** True when every cell of the row is blank (spreadsheets end with a tail of them). */
export function isBlankRow(cells: readonly unknown[]): boolean {
  return cells.every((c) => cellText(c) === '');
}
