import type { Role } from '@yiyang/service-kit';
import { idCardNumber, ROOT_ADMIN } from './stack';

/**
 * Two districts of Tangshan side by side — Lubei (路北) and Lunan (路南) — each with a provider, a
 * caregiver, an elder with a guardian, and one user of every role, all created through the
 * gateway's public API as a city-level admin would. The integration tests, the fuzz run and the
 * bench sign in as these users.
 */
export const LUBEI = '130203000000';
export const LUNAN = '130202000000';
export const LUBEI_COMMUNITY = '130203001001';
export const LUNAN_COMMUNITY = '130202001001';
export const PASSWORD = 'Care-Stack-2026!';

export interface Side {
  providerId: string;
  caregiverId: string;
  elderId: string;
  facilityId: string;
  idCardNumber: string;
  phone: string;
  tokens: Record<'admin' | 'operator' | 'caregiver' | 'elder' | 'guardian' | 'assessor' | 'auditor', string>;
}

export interface Scenario {
  root: string;
  lubei: Side;
  lunan: Side;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} → ${status} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

export function client(base: string) {
  return async function call<T = unknown>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        'accept-language': 'en',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new ApiError(res.status, json, `${method} ${path}`);
    return json as T;
  };
}

export async function login(base: string, username: string, password = PASSWORD): Promise<{ accessToken: string; refreshToken: string }> {
  return client(base)('POST', '/auth/login', undefined, { username, password });
}

const REGIONS: [string, string, number, number][] = [
  [LUBEI, '路北区', 39.63, 118.18],
  ['130203001000', '乔屯街道', 39.64, 118.17],
  [LUBEI_COMMUNITY, '文北社区', 39.641, 118.171],
  [LUNAN, '路南区', 39.62, 118.21],
  ['130202001000', '学院南路街道', 39.61, 118.2],
  [LUNAN_COMMUNITY, '学院南路社区', 39.611, 118.201],
];

export async function seedScenario(base: string, tag: string): Promise<Scenario> {
  const call = client(base);
  const root = (await login(base, ROOT_ADMIN.username, ROOT_ADMIN.password)).accessToken;
  // parents before children: a region's parent must exist
  for (const level of [0, 1, 2]) await Promise.all(REGIONS.filter((_, i) => i % 3 === level).map(([code, name, lat, lng]) => call('PUT', `/regions/${code}`, root, { name, centre: { lat, lng } })));
  const side = async (key: 'lubei' | 'lunan', district: string, community: string, n: number): Promise<Side> => {
    const street = community.slice(0, 9).padEnd(12, '0');
    const provider = await call<{ providerId: string }>('POST', '/providers', root, {
      name: `${key}-${tag}-服务中心`,
      type: 'COMPANY',
      licenceNumber: `${key.toUpperCase()}-${tag}`.slice(0, 30).toUpperCase(),
      contactPhone: '0315-2345678',
      serviceAreas: [street],
      offeredItems: [],
    });
    const caregiver = await call<{ caregiverId: string }>('POST', '/caregivers', root, {
      providerId: provider.providerId,
      kind: 'CAREGIVER',
      name: `${key}护理员`,
      gender: 'FEMALE',
      regionCode: community,
      skills: [],
      homeBase: { lat: 39.62, lng: 118.19 },
    });
    const idCard = idCardNumber(district.slice(0, 6), '1940-05-0' + n, `${String(Math.floor(Math.random() * 90) + 10)}${n * 2}`);
    const phone = `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
    const elder = await call<{ id: string }>('POST', '/elders', root, {
      name: `${key}老人`,
      gender: 'FEMALE',
      birthDate: `1940-05-0${n}`,
      idCardNumber: idCard,
      phone,
      regionCode: community,
      homeAddress: `${key}小区1号楼`,
      home: { lat: 39.62, lng: 118.19 },
      categories: [],
      guardians: [{ name: `${key}子女`, relation: '女儿', phone: `138${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}` }],
    });
    const facility = await call<{ facilityId: string }>('POST', '/facilities', root, {
      kind: 'STREET_CENTRE',
      name: `${key}-${tag}-街道中心`,
      regionCode: street,
      address: `${key}路1号`,
      location: { lat: 39.62, lng: 118.19 },
      capacity: 50,
      beds: { total: 10, nursing: 2, occupied: 1 },
    });
    const users: [keyof Side['tokens'], Role, Record<string, unknown>][] = [
      ['admin', 'civil_affairs_admin', {}],
      ['operator', 'provider_operator', { providerId: provider.providerId }],
      ['caregiver', 'caregiver', { caregiverId: caregiver.caregiverId, providerId: provider.providerId }],
      ['elder', 'elder', { elderIds: [elder.id] }],
      ['guardian', 'guardian', { elderIds: [elder.id] }],
      ['assessor', 'assessor', {}],
      ['auditor', 'auditor', {}],
    ];
    const tokens = {} as Side['tokens'];
    await Promise.all(
      users.map(async ([short, role, binding]) => {
        const username = `${key}-${short}-${tag}`;
        await call('POST', '/users', root, { username, displayName: `${key} ${short}`, password: PASSWORD, role, regionCode: district, ...binding });
        tokens[short] = (await login(base, username)).accessToken;
      }),
    );
    return { providerId: provider.providerId, caregiverId: caregiver.caregiverId, elderId: elder.id, facilityId: facility.facilityId, idCardNumber: idCard, phone, tokens };
  };
  const [lubei, lunan] = await Promise.all([side('lubei', LUBEI, LUBEI_COMMUNITY, 3), side('lunan', LUNAN, LUNAN_COMMUNITY, 4)]);
  return { root, lubei, lunan };
}
