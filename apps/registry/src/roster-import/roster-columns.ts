import { ElderCategories, type ElderCategory } from '@yiyang/contracts';

/**
 * The roster columns as bureau staff write them (Chinese headers) and as systems export them
 * (English keys). Matching is on the trimmed header with spaces, full-width brackets and a trailing
 * "(…)" hint removed, so "性别（男/女）", "身份证号 " and "ID card number" style variations all land.
 */
export type ColumnKey =
  | 'name'
  | 'gender'
  | 'idCardNumber'
  | 'birthDate'
  | 'phone'
  | 'regionCode'
  | 'homeAddress'
  | 'lat'
  | 'lng'
  | 'categories'
  | 'guardianName'
  | 'guardianRelation'
  | 'guardianPhone'
  | 'caregiverGender';

export interface ColumnSpec {
  key: ColumnKey;
  /** The header we print in the template and in error reports when the file used none. */
  zh: string;
  en: string;
  required: boolean;
  /** Other spellings seen in bureau spreadsheets. */
  aliases: string[];
  example: string;
}

export const ROSTER_COLUMNS: readonly ColumnSpec[] = [
  { key: 'name', zh: '姓名', en: 'name', required: true, aliases: ['老人姓名', '老年人姓名'], example: '张桂兰' },
  { key: 'gender', zh: '性别', en: 'gender', required: true, aliases: ['sex'], example: '女' },
  {
    key: 'idCardNumber',
    zh: '身份证号',
    en: 'idCardNumber',
    required: true,
    aliases: ['身份证号码', '公民身份号码', '身份证', 'idCard', 'idNumber'],
    example: '130203194805120024',
  },
  { key: 'birthDate', zh: '出生日期', en: 'birthDate', required: false, aliases: ['出生年月日'], example: '1948-05-12' },
  { key: 'phone', zh: '联系电话', en: 'phone', required: false, aliases: ['电话', '手机号', '手机号码', '联系方式'], example: '13831500001' },
  { key: 'regionCode', zh: '社区代码', en: 'regionCode', required: true, aliases: ['社区编码', '区划代码', 'communityCode'], example: '130203001001' },
  { key: 'homeAddress', zh: '家庭住址', en: 'homeAddress', required: true, aliases: ['住址', '居住地址', '现住址', 'address'], example: '路北区乔屯街道文北社区3号楼2单元401' },
  { key: 'lat', zh: '纬度', en: 'lat', required: true, aliases: ['latitude', 'homeLat'], example: '39.6412' },
  { key: 'lng', zh: '经度', en: 'lng', required: true, aliases: ['longitude', 'homeLng', 'lon'], example: '118.1731' },
  { key: 'categories', zh: '人员类别', en: 'categories', required: false, aliases: ['类别', '老人类别', '特殊群体类别'], example: '独居、低保' },
  { key: 'guardianName', zh: '监护人姓名', en: 'guardianName', required: false, aliases: ['紧急联系人', '联系人姓名'], example: '李建国' },
  { key: 'guardianRelation', zh: '监护人关系', en: 'guardianRelation', required: false, aliases: ['与老人关系', '关系'], example: '儿子' },
  { key: 'guardianPhone', zh: '监护人电话', en: 'guardianPhone', required: false, aliases: ['紧急联系人电话', '联系人电话'], example: '13931500002' },
  {
    key: 'caregiverGender',
    zh: '护理员性别要求',
    en: 'caregiverGender',
    required: false,
    aliases: ['护理员性别', '服务人员性别要求'],
    example: '',
  },
];

const normalise = (header: string) =>
  header
    .replace(/^\uFEFF/, '')
    .replace(/[（(][^）)]*[）)]\s*$/, '') // "性别（男/女）" → "性别"
    .replace(/[\s*＊_-]/g, '') // "身份证号 *", "id_card_number"
    .toLowerCase();

const LOOKUP = new Map<string, ColumnKey>();
for (const c of ROSTER_COLUMNS) for (const h of [c.zh, c.en, ...c.aliases]) LOOKUP.set(normalise(h), c.key);

export const columnSpec = (key: ColumnKey): ColumnSpec => ROSTER_COLUMNS.find((c) => c.key === key)!;

export interface HeaderMap {
  /** column index (0-based) → key */
  byIndex: Map<number, ColumnKey>;
  /** key → the header exactly as this file wrote it, for error reports in the bureau's own words. */
  headerOf: Map<ColumnKey, string>;
}

/** Recognises a header row; undefined when the row does not name the ID-card column (not a header). */
export function readHeader(cells: readonly unknown[]): HeaderMap | undefined {
  const byIndex = new Map<number, ColumnKey>();
  const headerOf = new Map<ColumnKey, string>();
  cells.forEach((cell, i) => {
    if (typeof cell !== 'string') return;
    const key = LOOKUP.get(normalise(cell));
    // The first occurrence wins: a second "电话" column is usually a landline nobody asked for.
    if (key && !headerOf.has(key)) {
      byIndex.set(i, key);
      headerOf.set(key, cell.replace(/^\uFEFF/, '').trim());
    }
  });
  return headerOf.has('idCardNumber') ? { byIndex, headerOf } : undefined;
}

export function missingRequired(header: HeaderMap): ColumnSpec[] {
  return ROSTER_COLUMNS.filter((c) => c.required && !header.headerOf.has(c.key));
}

// ------------------------------------------------------------------------------------------------
// Value vocabularies

const GENDERS: Record<string, 'FEMALE' | 'MALE'> = { 女: 'FEMALE', 男: 'MALE', female: 'FEMALE', male: 'MALE', f: 'FEMALE', m: 'MALE' };

export function parseGender(raw: string): 'FEMALE' | 'MALE' | undefined {
  return GENDERS[raw.trim().toLowerCase()];
}

const CATEGORY_BY_LABEL = new Map<string, ElderCategory>();
for (const code of ElderCategories.codes) {
  const { zh, en } = ElderCategories.labels[code];
  for (const label of [code, en, zh, ...zh.split('/')]) CATEGORY_BY_LABEL.set(label.toLowerCase(), code);
}
// Spellings bureau rosters use for the same groups.
for (const [label, code] of [
  ['失能', 'DISABLED'],
  ['半失能', 'DISABLED'],
  ['失能半失能', 'DISABLED'],
  ['特困供养', 'DESTITUTE'],
  ['特困人员', 'DESTITUTE'],
  ['低保户', 'LOW_INCOME'],
  ['重度残疾', 'SEVERELY_DISABLED'],
  ['计生特殊家庭', 'SPECIAL_FAMILY_PLANNING'],
  ['失独', 'SPECIAL_FAMILY_PLANNING'],
  ['留守老人', 'LEFT_BEHIND'],
  ['独居老人', 'LIVING_ALONE'],
  ['空巢老人', 'EMPTY_NEST'],
  ['高龄老人', 'ADVANCED_AGE'],
] as const) {
  CATEGORY_BY_LABEL.set(label, code);
}

export const CATEGORY_SEPARATORS = /[、,，;；|\s]+/;

/** The zh labels bureau staff may write, for error messages and the template. */
export const CATEGORY_LABELS_ZH = ElderCategories.codes.filter((c) => c !== 'ADVANCED_AGE').map((c) => ElderCategories.labels[c].zh);

/**
 * "独居、低保" → ['LIVING_ALONE', 'LOW_INCOME']. 高龄 (advanced age) is accepted and dropped: the
 * registry derives it from the birth date, so a stale roster cannot contradict it.
 */
export function parseCategories(raw: string): { codes: ElderCategory[] } | { unknown: string[] } {
  const labels = raw.split(CATEGORY_SEPARATORS).map((s) => s.trim()).filter(Boolean);
  const codes = new Set<ElderCategory>();
  const unknown: string[] = [];
  for (const label of labels) {
    const code = CATEGORY_BY_LABEL.get(label.toLowerCase());
    if (!code) unknown.push(label);
    else if (code !== 'ADVANCED_AGE') codes.add(code);
  }
  return unknown.length ? { unknown } : { codes: [...codes] };
}
