import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import type { Connection } from 'mongoose';
import { AppModule } from '../app.module';
import { SERVICE } from '../service';
import { composeIdCard } from './domain/id-card';
import type { ElderInput } from './elder-input';

// Shared by the elder and assessment suites: a small Tangshan tree and plausible roster rows.

export const CITY_ADMIN: Principal = { userId: 'city-admin', role: 'civil_affairs_admin', regionCode: '130200000000' };
export const LUBEI: Principal = { userId: 'lubei-admin', role: 'civil_affairs_admin', regionCode: '130203000000' };
export const LUNAN: Principal = { userId: 'lunan-admin', role: 'civil_affairs_admin', regionCode: '130202000000' };
export const COMMUNITY = '130203001001';
export const COMMUNITY_2 = '130203001002';
export const LUNAN_COMMUNITY = '130202001001';

/** Boots the registry (in this test file's own database: tools/jest/isolated-database.cjs). */
export function bootRegistry(): Promise<NestFastifyApplication> {
  return bootTestApp(AppModule, SERVICE);
}

/** Drops the test file's database, so repeated local runs do not pile up databases in FerretDB. */
export async function closeRegistry(app: NestFastifyApplication | undefined): Promise<void> {
  if (!app) return;
  await app.get<Connection>(getConnectionToken()).dropDatabase().catch(() => undefined);
  await app.close();
}

export async function buildRegions(app: NestFastifyApplication): Promise<void> {
  const regions: [string, string, number, number][] = [
    ['130203000000', '路北区', 39.63, 118.18],
    ['130203001000', '乔屯街道', 39.64, 118.17],
    [COMMUNITY, '文北社区', 39.641, 118.171],
    [COMMUNITY_2, '文南社区', 39.638, 118.172],
    ['130202000000', '路南区', 39.62, 118.21],
    ['130202001000', '学院南路街道', 39.61, 118.2],
    [LUNAN_COMMUNITY, '学院南路社区', 39.611, 118.201],
  ];
  for (const [code, name, lat, lng] of regions) {
    const res = await app.inject({ method: 'PUT', url: `/regions/${code}`, headers: asPrincipal(CITY_ADMIN), payload: { name, centre: { lat, lng } } });
    if (res.statusCode !== 200) throw new Error(`region ${code}: ${res.body}`);
  }
}

/** A valid roster row for person number `n` (distinct ID numbers for n < 10⁶). */
export function rosterRow(n: number, overrides: Partial<ElderInput> = {}): ElderInput {
  const year = 1935 + (n % 25);
  const birthDate = `${year}-${String((n % 12) + 1).padStart(2, '0')}-${String((n % 28) + 1).padStart(2, '0')}`;
  // Sequence digits encode n; the last one fixes the gender (odd = male).
  const male = n % 2 === 1;
  const seq = `${String(Math.floor(n / 10) % 100).padStart(2, '0')}${male ? 1 + 2 * (n % 5) : 2 * (n % 5)}`;
  const idCardNumber = composeIdCard('130203', birthDate, seq);
  return {
    name: `测试老人${n}`,
    gender: male ? 'MALE' : 'FEMALE',
    birthDate,
    idCardNumber,
    phone: `139${String(n).padStart(8, '0')}`,
    regionCode: n % 2 === 0 ? COMMUNITY : COMMUNITY_2,
    homeAddress: `乔屯街道文北小区${(n % 40) + 1}号楼${(n % 6) + 1}单元`,
    home: { lat: 39.64 + (n % 100) / 10_000, lng: 118.17 + (n % 77) / 10_000 },
    categories: n % 3 === 0 ? ['LIVING_ALONE'] : [],
    guardians: n % 4 === 0 ? [{ name: `子女${n}`, relation: '儿子', phone: `138${String(n).padStart(8, '0')}` }] : undefined,
    ...overrides,
  };
}
