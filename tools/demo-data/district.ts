/**
 * A realistic demo district built from the public figures for Lubei district, Tangshan (domain.md):
 * 188,200 residents aged 60+, 12 street-level centres, 177 community day-care stations, 31
 * institutions. Everything is derived from a seeded PRNG, so every run builds the same district.
 *
 * Codes follow the statistical division scheme: Tangshan 130200000000, Lubei 130203000000, streets
 * 130203001000… (街道 001–099), the township 果园乡 130203200000 (乡 200–299), communities below them
 * (社区 001–199, villages 200–399).
 */
import { IdCardFactory } from './id-card';
import { Prng, round6 } from './prng';

export const SEED = 'yiyang-lubei-2026';
export const CITY_CODE = '130200000000';
export const DISTRICT_CODE = '130203000000';
export const DISTRICT = { code: DISTRICT_CODE, name: '路北区', centre: { lat: 39.6505, lng: 118.1805 } };
export const CITY = { code: CITY_CODE, name: '唐山市', centre: { lat: 39.6305, lng: 118.1802 } };
/** Residents aged 60+ in Lubei (domain.md). */
export const FULL_SCALE_ELDERS = 188_200;
export const DEFAULT_DEMO_ELDERS = 20_000;

export interface RegionSeed {
  code: string;
  name: string;
  centre: { lat: number; lng: number };
}
export interface StreetSeed extends RegionSeed {
  communities: RegionSeed[];
}

const STREET_NAMES = [
  '乔屯街道', '文化路街道', '钓鱼台街道', '东新村街道', '缸窑街道', '机场路街道',
  '河北路街道', '龙东街道', '大里街道', '光明街道', '翔云道街道', '果园乡',
];
/** 177 stations, one per community: nine streets with 15 communities, three with 14. */
const COMMUNITIES_PER_STREET = [15, 15, 15, 15, 15, 15, 15, 15, 15, 14, 14, 14];

const COMMUNITY_STEMS = [
  '文北', '龙泉', '乔屯', '文化', '钓鱼台', '东新', '缸窑', '机场', '河北', '龙东', '大里', '光明', '翔云', '华岩', '友谊',
  '裕华', '新华', '建设', '北新', '凤凰', '龙华', '兴源', '丰润', '幸福', '和平', '团结', '长宁', '朝阳', '金泰', '富康',
  '御景', '华新', '学院', '西山', '体育', '交大', '站前', '商场', '花园', '祥和', '泰和', '康庄', '福安', '惠民', '荣华',
  '春晖', '春和', '锦绣', '雅园', '翠屏', '明珠', '世纪', '君瑞', '鹭港', '远洋', '新城', '荷花', '青龙', '天元', '益民',
];
const VILLAGE_STEMS = ['果园', '王家', '李庄子', '东坨', '西坨', '小营', '大营', '辛庄', '孙庄', '蔡庄', '前屯', '后屯', '马庄', '田庄'];

function streetCode(i: number): string {
  // The last unit is a township (乡): codes 200–299 in the statistical scheme.
  return i === STREET_NAMES.length - 1 ? `130203200000` : `130203${String(i + 1).padStart(3, '0')}000`;
}

export function buildRegions(): StreetSeed[] {
  const rng = new Prng(`${SEED}:regions`);
  const stems = rng.sample(COMMUNITY_STEMS, COMMUNITY_STEMS.length);
  // Shuffle the stems deterministically so neighbouring streets do not share naming patterns.
  for (let i = stems.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [stems[i], stems[j]] = [stems[j], stems[i]];
  }
  let stem = 0;
  // Unique across the district: two 祥和东社区 in different streets would confuse people and the loader.
  const used = new Set<string>();
  return STREET_NAMES.map((name, i) => {
    // A 4 × 3 grid over lat 39.63–39.67, lng 118.14–118.22, jittered.
    const centre = {
      lat: round6(39.633 + (Math.floor(i / 4) * 0.034) / 2 + rng.next() * 0.006),
      lng: round6(118.145 + (i % 4) * 0.022 + rng.next() * 0.006),
    };
    const code = streetCode(i);
    const township = name.endsWith('乡');
    const communities: RegionSeed[] = [];
    for (let c = 0; c < COMMUNITIES_PER_STREET[i]; c++) {
      let cname: string;
      if (township) cname = `${VILLAGE_STEMS[c % VILLAGE_STEMS.length]}${c >= VILLAGE_STEMS.length ? '二' : ''}村`;
      else {
        do {
          const base = stems[stem++ % stems.length];
          const suffix = stem > stems.length ? ['东', '西', '南', '北', '中'][rng.int(0, 4)] : '';
          cname = `${base}${suffix}社区`;
        } while (used.has(cname));
      }
      used.add(cname);
      const local = township ? 201 + c : 1 + c;
      communities.push({
        code: `${code.slice(0, 9)}${String(local).padStart(3, '0')}`,
        name: cname,
        centre: rng.near(centre, 1_100),
      });
    }
    return { code, name, centre, communities };
  });
}

// ------------------------------------------------------------------------------------------------
// Providers, facilities, caregivers, prices

export interface ProviderSeed {
  key: string;
  name: string;
  type: 'SOCIAL_ORGANISATION' | 'COMPANY' | 'PUBLIC_INSTITUTION';
  licenceNumber: string;
  contactPhone: string;
  /** Communities whose day-care stations it runs under contract (Xiangcheng: 4 providers ran 14 centres). */
  communities: string[];
  streets: string[];
  offeredItems: string[];
  /** Price level relative to the district's reference prices. */
  priceFactor: number;
}

export interface FacilitySeed {
  key: string;
  kind: 'STREET_CENTRE' | 'DAY_CARE_STATION' | 'CANTEEN' | 'INSTITUTION';
  name: string;
  regionCode: string;
  address: string;
  location: { lat: number; lng: number };
  providerKey: string | null;
  openingHours: Array<{ day: number; from: string; to: string }>;
  capacity: number;
  beds: { total: number; nursing: number; occupied: number };
}

export interface CaregiverSeed {
  key: string;
  providerKey: string;
  kind: 'CAREGIVER' | 'VOLUNTEER' | 'SOCIAL_WORKER';
  name: string;
  gender: 'FEMALE' | 'MALE';
  idCardNumber: string;
  phone: string;
  regionCode: string;
  skills: string[];
  certifications: Array<{ name: string; number: string; expiresOn: string }>;
  homeBase: { lat: number; lng: number };
  weeklyAvailability: Array<{ day: number; from: string; to: string }>;
}

/** Reference prices in fen (分) for the catalogue seed's item codes; providers quote around them. */
export const REFERENCE_PRICES_FEN: Record<string, number> = {
  MEAL_AT_CANTEEN: 1_200,
  MEAL_DELIVERY: 1_800,
  HOME_CLEANING: 4_000,
  LAUNDRY: 3_000,
  HAIRCUT: 1_500,
  BATHING_AT_HOME: 8_000,
  BATHING_AT_CENTRE: 5_000,
  EMERGENCY_HELP: 0,
  MEDICAL_ESCORT: 10_000,
  MEDICATION_REMINDER: 1_000,
  MOBILITY_ASSISTANCE: 3_500,
  ERRANDS_SHOPPING: 2_000,
  REHAB_PHYSIOTHERAPY: 8_000,
  DAY_CARE: 6_000,
  RESPITE_CARE: 15_000,
  EMOTIONAL_SUPPORT_VISIT: 3_000,
  PSYCHOLOGICAL_COUNSELLING: 15_000,
  HEALTH_CHECK: 2_000,
  CHRONIC_DISEASE_MONITORING: 1_500,
  HOME_ADAPTATION_ASSESSMENT: 20_000,
};
const ITEM_CODES = Object.keys(REFERENCE_PRICES_FEN);
const CORE_ITEMS = ['MEAL_AT_CANTEEN', 'MEAL_DELIVERY', 'HOME_CLEANING', 'EMERGENCY_HELP', 'EMOTIONAL_SUPPORT_VISIT', 'HEALTH_CHECK'];

const BRANDS = [
  '颐和', '康乐', '福寿', '乐龄', '安康', '夕阳红', '慈恩', '仁爱', '善孝', '金色年华', '暖阳', '惠众', '佳和', '德瑞', '嘉年',
  '爱晚', '椿萱', '益寿', '同心', '家和', '万福', '怡养', '长青', '瑞祥', '鹤年', '松鹤', '康馨', '恒爱', '天伦', '桑榆',
];
const PROVIDER_FORMS: Array<[ProviderSeed['type'], string]> = [
  ['SOCIAL_ORGANISATION', '居家养老服务中心'],
  ['COMPANY', '养老服务有限公司'],
  ['SOCIAL_ORGANISATION', '社会工作服务中心'],
  ['COMPANY', '健康管理有限公司'],
];

function phone(rng: Prng): string {
  return `1${rng.pick(['3', '5', '8', '8', '3', '9'])}${rng.int(0, 9)}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`;
}

/** Unified social credit code shape (18 chars): enough for a licence-number field. */
function creditCode(rng: Prng): string {
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  let s = '52130203';
  while (s.length < 18) s += chars[rng.int(0, chars.length - 1)];
  return s;
}

export interface District {
  streets: StreetSeed[];
  providers: ProviderSeed[];
  facilities: FacilitySeed[];
  caregivers: CaregiverSeed[];
  prices: Array<{ providerKey: string; itemCode: string; priceFen: number }>;
}

/**
 * Evening and night duty of every provider. One-click orders and SOS calls come at any hour, and a
 * provider running community stations keeps someone on duty: two late shifts (13:00–21:30) and two
 * night duties (21:30 to 09:00 the next morning, handing over to the day shift) whose days overlap on Thursday, so every evening and
 * every night of the week has one of the provider's workers available and an ASAP order finds a
 * candidate whatever the hour (day shifts start at 07:00–09:00 and end at 17:30).
 */
const night = (days: number[]) => days.flatMap((day) => [
  { day, from: '21:30', to: '24:00' },
  { day: (day % 7) + 1, from: '00:00', to: '09:00' },
]);
const DUTY_ROTA: Array<Array<{ day: number; from: string; to: string }>> = [
  night([1, 2, 3, 4]),
  night([4, 5, 6, 7]),
  [1, 2, 3, 4].map((day) => ({ day, from: '13:00', to: '21:30' })),
  [4, 5, 6, 7].map((day) => ({ day, from: '13:00', to: '21:30' })),
];

export function buildDistrict(options: { caregivers?: number } = {}): District {
  const rng = new Prng(`${SEED}:network`);
  const streets = buildRegions();
  const communities = streets.flatMap((s) => s.communities.map((c) => ({ ...c, street: s })));

  // Xiangcheng: 4 providers ran 14 community centres (3.5 each). Lubei's 177 stations → 51 providers,
  // each contracted for a run of neighbouring communities inside one street.
  const providerCount = Math.ceil(communities.length / 3.5);
  const providers: ProviderSeed[] = [];
  const brands = rng.sample(BRANDS, BRANDS.length);
  for (let p = 0; p < providerCount; p++) {
    const [type, form] = PROVIDER_FORMS[p % PROVIDER_FORMS.length];
    const brand = brands[p % brands.length];
    const branch = p >= brands.length ? `${STREET_NAMES[p % STREET_NAMES.length].replace(/街道|乡/, '')}` : '';
    providers.push({
      key: `P${String(p + 1).padStart(2, '0')}`,
      name: `唐山市路北区${brand}${branch}${form}`,
      type,
      licenceNumber: creditCode(rng),
      contactPhone: `0315-${rng.int(2_000_000, 5_999_999)}`,
      communities: [],
      streets: [],
      offeredItems: [...new Set([...CORE_ITEMS, ...rng.sample(ITEM_CODES, rng.int(6, 12))])],
      priceFactor: 0.9 + rng.next() * 0.25,
    });
  }
  communities.forEach((c, i) => {
    const provider = providers[Math.floor((i * providerCount) / communities.length)];
    provider.communities.push(c.code);
    if (!provider.streets.includes(c.street.code)) provider.streets.push(c.street.code);
  });

  const weekdays = (from: string, to: string, days = [1, 2, 3, 4, 5]) => days.map((day) => ({ day, from, to }));
  const facilities: FacilitySeed[] = [];
  // One comprehensive centre per street, run by the provider holding most of that street's contracts.
  for (const street of streets) {
    const runner = providers.find((p) => p.streets.includes(street.code))!;
    facilities.push({
      key: `SC-${street.code}`,
      kind: 'STREET_CENTRE',
      name: `${street.name}综合养老服务中心`,
      regionCode: street.communities[0].code,
      address: `路北区${street.name}${street.communities[0].name}服务中心楼`,
      location: rng.near(street.centre, 300),
      providerKey: runner.key,
      openingHours: weekdays('08:00', '18:00', [1, 2, 3, 4, 5, 6, 7]),
      capacity: rng.int(40, 80),
      beds: { total: rng.int(20, 40), nursing: 0, occupied: 0 },
    });
  }
  // One day-care station per community ("one station per community").
  for (const c of communities) {
    const runner = providers.find((p) => p.communities.includes(c.code))!;
    facilities.push({
      key: `DC-${c.code}`,
      kind: 'DAY_CARE_STATION',
      name: `${c.name}日间照料站`,
      regionCode: c.code,
      address: `路北区${c.street.name}${c.name}居委会一层`,
      location: rng.near(c.centre, 150),
      providerKey: runner.key,
      openingHours: weekdays('08:30', '17:00'),
      capacity: rng.int(15, 40),
      beds: { total: rng.int(0, 6), nursing: 0, occupied: 0 },
    });
  }
  // Canteens and meal points in about a quarter of the communities.
  for (const c of communities.filter((_, i) => i % 4 === 0)) {
    const runner = providers.find((p) => p.communities.includes(c.code))!;
    facilities.push({
      key: `CT-${c.code}`,
      kind: 'CANTEEN',
      name: `${c.name}长者食堂`,
      regionCode: c.code,
      address: `路北区${c.name}长者食堂`,
      location: rng.near(c.centre, 250),
      providerKey: runner.key,
      openingHours: weekdays('10:30', '13:30', [1, 2, 3, 4, 5, 6, 7]),
      capacity: rng.int(30, 120),
      beds: { total: 0, nursing: 0, occupied: 0 },
    });
  }
  // 31 institutions; nursing-type beds > 90% of beds (the share Yiyuan reports, now a national goal).
  const institutionKinds = ['敬老院', '养老院', '护理院', '颐养中心', '老年公寓'];
  for (let k = 0; k < 31; k++) {
    const c = communities[(k * 37 + 11) % communities.length];
    const total = rng.int(60, 260);
    const nursing = Math.ceil(total * (0.91 + rng.next() * 0.08));
    facilities.push({
      key: `IN-${String(k + 1).padStart(2, '0')}`,
      kind: 'INSTITUTION',
      name: `路北区${rng.pick(BRANDS)}${institutionKinds[k % institutionKinds.length]}${k >= 25 ? `（${c.street.name.replace(/街道|乡/, '')}院区）` : ''}`,
      regionCode: c.code,
      address: `路北区${c.street.name}${c.name}附近`,
      location: rng.near(c.centre, 600),
      providerKey: k % 3 === 0 ? null : providers[(k * 7) % providers.length].key, // a third are public (公办)
      openingHours: weekdays('00:00', '24:00', [1, 2, 3, 4, 5, 6, 7]),
      capacity: total,
      beds: { total, nursing, occupied: Math.floor(total * (0.55 + rng.next() * 0.35)) },
    });
  }

  // Facility names are the loader's natural key (kind + name): a repeated name gets a branch number.
  const seenNames = new Set<string>();
  for (const f of facilities) {
    let name = f.name;
    for (let n = 2; seenNames.has(`${f.kind}|${name}`); n++) name = `${f.name}（${n}号院）`;
    seenNames.add(`${f.kind}|${name}`);
    f.name = name;
  }

  // Caregivers: 600 by default, spread over providers by contract size.
  const caregiverTotal = options.caregivers ?? 600;
  const ids = new IdCardFactory();
  const caregivers: CaregiverSeed[] = [];
  const certNames = ['养老护理员职业技能等级证书（五级/初级工）', '养老护理员职业技能等级证书（四级/中级工）', '健康照护师', '社会工作者职业资格证书', '急救员证'];
  for (let k = 0; k < caregiverTotal; k++) {
    const provider = providers[k % providers.length];
    const gender = rng.chance(0.82) ? 'FEMALE' : 'MALE'; // the workforce is mostly women in their 40s–50s
    const age = rng.int(28, 58);
    const birth = birthDate(rng, 2026 - age);
    const community = rng.pick(provider.communities);
    // The provider's last four workers keep its evening and night duty (DUTY_ROTA; its first worker,
    // the demo caregiver's account, works days); duty workers are generalists who may deliver every
    // item their provider offers.
    const staff = Math.ceil((caregiverTotal - (k % providers.length)) / providers.length);
    const rota = staff - 1 - Math.floor(k / providers.length);
    const onDuty = rota < DUTY_ROTA.length;
    const kind = onDuty ? 'CAREGIVER' : k % 20 === 19 ? 'SOCIAL_WORKER' : k % 10 === 9 ? 'VOLUNTEER' : 'CAREGIVER';
    const sampled = rng.sample(provider.offeredItems, rng.int(3, Math.min(8, provider.offeredItems.length)));
    // 助洁 (cleaning help) is one of the basic "six helps" every home caregiver delivers.
    const basic = kind === 'CAREGIVER' && provider.offeredItems.includes('HOME_CLEANING') && !sampled.includes('HOME_CLEANING') ? ['HOME_CLEANING'] : [];
    const skills = onDuty ? [...provider.offeredItems] : [...sampled, ...basic];
    const centre = communities.find((c) => c.code === community)!.centre;
    const startHour = rng.pick(['07:00', '08:00', '09:00']);
    caregivers.push({
      key: `CG-${String(k + 1).padStart(4, '0')}`,
      providerKey: provider.key,
      kind,
      name: personName(rng, gender, 'worker'),
      gender,
      idCardNumber: ids.next(rng.pick(['130203', '130202', '130204', '130224', '130281']), birth, gender),
      phone: phone(rng),
      regionCode: community,
      skills,
      certifications:
        kind === 'VOLUNTEER'
          ? []
          : [{ name: kind === 'SOCIAL_WORKER' ? certNames[3] : rng.pick(certNames.slice(0, 3)), number: `LB${2020 + rng.int(0, 5)}${String(k + 1).padStart(5, '0')}`, expiresOn: `${2027 + rng.int(0, 3)}-${String(rng.int(1, 12)).padStart(2, '0')}-28` }],
      homeBase: rng.near(centre, 900),
      weeklyAvailability: onDuty
        ? DUTY_ROTA[rota]
        : rng.sample([1, 2, 3, 4, 5, 6, 7], kind === 'VOLUNTEER' ? 2 : 5).map((day) => ({ day, from: startHour, to: kind === 'VOLUNTEER' ? '11:30' : '17:30' })),
    });
  }

  const prices = providers.flatMap((p) =>
    p.offeredItems.map((itemCode) => ({
      providerKey: p.key,
      itemCode,
      // Rounded to 50 fen, as price lists are printed.
      priceFen: Math.round((REFERENCE_PRICES_FEN[itemCode] * p.priceFactor) / 50) * 50,
    })),
  );
  return { streets, providers, facilities, caregivers, prices };
}

// ------------------------------------------------------------------------------------------------
// Elders

const SURNAMES = [
  '王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗',
  '梁', '宋', '郑', '谢', '韩', '唐', '冯', '于', '董', '萧', '程', '曹', '袁', '邓', '许', '傅', '沈', '曾', '彭', '吕',
  '苏', '卢', '蒋', '蔡', '贾', '丁', '魏', '薛', '叶', '阎', '齐', '崔', '田', '边', '常', '毕', '白', '谷', '尹', '霍',
];
const ELDER_GIVEN = {
  FEMALE: ['桂兰', '秀英', '淑珍', '玉兰', '凤英', '秀兰', '玉珍', '桂芝', '淑兰', '秀珍', '凤兰', '桂英', '玉芬', '素琴', '淑英', '翠兰', '俊英', '丽华', '秀芳', '桂珍', '金凤', '素云', '淑华', '玉梅', '春兰'],
  MALE: ['建国', '国华', '志强', '德明', '永福', '振华', '国庆', '保国', '德山', '凤山', '文华', '玉成', '树林', '长林', '广志', '福顺', '宝山', '连生', '春生', '占元', '永利', '志刚', '庆丰', '金生', '学文'],
};
const WORKER_GIVEN = {
  FEMALE: ['丽娟', '海燕', '红梅', '晓燕', '丽萍', '秀云', '艳华', '春燕', '丽丽', '雪梅', '静', '敏', '娜', '艳', '芳'],
  MALE: ['海涛', '建军', '志军', '立新', '永强', '卫东', '晓东', '伟', '磊', '军', '勇', '刚'],
};

function personName(rng: Prng, gender: 'FEMALE' | 'MALE', generation: 'elder' | 'worker'): string {
  return rng.pick(SURNAMES) + rng.pick((generation === 'elder' ? ELDER_GIVEN : WORKER_GIVEN)[gender]);
}

function birthDate(rng: Prng, year: number): string {
  const month = rng.int(1, 12);
  const day = rng.int(1, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export interface ElderRow {
  name: string;
  gender: 'FEMALE' | 'MALE';
  idCardNumber: string;
  birthDate: string;
  phone: string | null;
  regionCode: string;
  homeAddress: string;
  home: { lat: number; lng: number };
  /** zh labels as a bureau writes them; 高龄 is derived by the registry, so never listed. */
  categoriesZh: string[];
  guardian: { name: string; relation: string; phone: string } | null;
}

/**
 * The roster, one elder at a time (never the whole list in memory). Shares: living alone ~12%,
 * empty-nest ~30%, low-income ~5%, disabled ~6%, severely disabled ~1.5%, destitute ~0.8%,
 * special family-planning ~1%, left-behind ~2%; ages 60–105 with ~14% aged 80+ (derived as 高龄
 * from the birth date); women ~54% (they live longer).
 */
export function* elderRoster(count: number, streets: StreetSeed[] = buildRegions()): Generator<ElderRow> {
  const rng = new Prng(`${SEED}:elders`);
  const ids = new IdCardFactory();
  const communities = streets.flatMap((s) => s.communities.map((c) => ({ ...c, street: s })));
  // Township villages are smaller than urban communities: weight 1 vs 2.
  const weights = communities.map((c) => (c.name.endsWith('村') ? 1 : 2));
  const cumulative = weights.map(((sum) => (w: number) => (sum += w))(0));
  const totalWeight = cumulative[cumulative.length - 1];
  const referenceYear = 2026;
  for (let i = 0; i < count; i++) {
    const gender = rng.chance(0.54) ? 'FEMALE' : 'MALE';
    // Exponential tail: P(age ≥ 80) = e^(-20/10.2) ≈ 14%.
    const age = Math.min(105, 61 + Math.floor(-Math.log(1 - rng.next()) * 10.2));
    const birth = birthDate(rng, referenceYear - age - 1);
    const r = rng.next() * totalWeight;
    const community = communities[cumulative.findIndex((c) => c > r)];
    const categories: string[] = [];
    const alone = rng.chance(0.12);
    if (alone) categories.push('独居');
    else if (rng.chance(0.34)) categories.push('空巢'); // 0.88 × 0.34 ≈ 30% of all
    if (rng.chance(0.02)) categories.push('留守');
    if (rng.chance(0.05)) categories.push('低保');
    if (rng.chance(0.008)) categories.push('特困');
    if (rng.chance(age >= 80 ? 0.15 : 0.045)) categories.push('失能/半失能');
    if (rng.chance(0.015)) categories.push('重残');
    if (rng.chance(0.01)) categories.push('计划生育特殊家庭');
    const hasGuardian = !categories.includes('特困') && rng.chance(0.88);
    const building = rng.int(1, 40);
    yield {
      name: personName(rng, gender, 'elder'),
      gender,
      idCardNumber: ids.next(rng.chance(0.8) ? '130203' : rng.pick(['130202', '130204', '130205', '130224', '130281', '130223']), birth, gender),
      birthDate: birth,
      phone: rng.chance(0.7) ? phone(rng) : null,
      regionCode: community.code,
      homeAddress: community.name.endsWith('村')
        ? `路北区${community.street.name}${community.name}${rng.int(1, 300)}号`
        : `路北区${community.street.name}${community.name}${building}号楼${rng.int(1, 6)}单元${rng.int(1, 6)}0${rng.int(1, 4)}`,
      home: rng.near(community.centre, 500),
      categoriesZh: categories,
      guardian: hasGuardian
        ? (() => {
            const relation = rng.pick(['儿子', '女儿', '儿子', '女儿', '儿媳', '女婿', '孙子', '孙女', '侄子']);
            const g = ['女儿', '儿媳', '孙女'].includes(relation) ? 'FEMALE' : 'MALE';
            return { name: personName(rng, g, 'worker'), relation, phone: phone(rng) };
          })()
        : null,
    };
  }
}

/** The Chinese roster columns, in the order of the import template. */
export const ROSTER_HEADER_ZH = ['姓名', '性别', '身份证号', '出生日期', '联系电话', '社区代码', '家庭住址', '纬度', '经度', '人员类别', '监护人姓名', '监护人关系', '监护人电话'];

const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function rosterCsvLine(e: ElderRow): string {
  return `${[
    e.name,
    e.gender === 'FEMALE' ? '女' : '男',
    e.idCardNumber,
    e.birthDate,
    e.phone ?? '',
    e.regionCode,
    e.homeAddress,
    String(e.home.lat),
    String(e.home.lng),
    e.categoriesZh.join('、'),
    e.guardian?.name ?? '',
    e.guardian?.relation ?? '',
    e.guardian?.phone ?? '',
  ]
    .map(csvCell)
    .join(',')}\n`;
}

/** The roster as CSV text chunks (UTF-8 with BOM, as Excel's "CSV UTF-8" saves it), ~1,000 rows per chunk. */
export function* rosterCsv(count: number, streets?: StreetSeed[]): Generator<string> {
  let chunk = `\uFEFF${ROSTER_HEADER_ZH.join(',')}\n`;
  let n = 0;
  for (const elder of elderRoster(count, streets)) {
    chunk += rosterCsvLine(elder);
    if (++n % 1_000 === 0) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
