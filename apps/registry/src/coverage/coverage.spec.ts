import 'reflect-metadata';
import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { distanceMetres, h3Cell, type LatLng } from '@yiyang/geo';
import { uniqueSuffix } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import type { Connection } from 'mongoose';
import { AppModule } from '../app.module';
import { SERVICE } from '../service';

/**
 * A hand-built district whose answer is known: one open day-care station, an institution 3 km
 * away, ten active elders at measured distances from the station (six within 1 km), one deceased
 * elder who must not count, and a second community without a station.
 */
describe('coverage figures (real database)', () => {
  let app: NestFastifyApplication;
  const two = (max: number) => String(1 + Math.floor(Math.random() * max)).padStart(2, '0');
  const cityCode = `${70 + Math.floor(Math.random() * 29)}${two(99)}00000000`;
  const county = `${cityCode.slice(0, 4)}${two(99)}000000`;
  const street = `${county.slice(0, 6)}001000`;
  const community = `${street.slice(0, 9)}001`;
  const quietCommunity = `${street.slice(0, 9)}002`;
  const admin: Principal = { userId: 'city-admin', role: 'civil_affairs_admin', regionCode: cityCode };
  const station: LatLng = { lat: 39.63, lng: 118.18 };
  /** A point `metres` due north (negative: south) of the station. */
  const north = (metres: number, eastMetres = 0): LatLng => ({
    lat: station.lat + metres / 111_195,
    lng: station.lng + eastMetres / (111_195 * Math.cos((station.lat * Math.PI) / 180)),
  });
  // Within 1 km: 200, 400, 600, 700, 800 north and 800 east. Beyond: 1.5, 1.8, 2.6, 3 km.
  const homes = [north(200), north(400), north(600), north(700), north(800), north(0, 800), north(1_500), north(1_800), north(2_600), north(3_000)];
  const categories = [['LIVING_ALONE', 'ADVANCED_AGE'], ['LIVING_ALONE'], ['DESTITUTE'], [], [], [], ['ADVANCED_AGE'], [], [], []];
  const elderIds = homes.map(() => `elder-${uniqueSuffix()}`);

  const call = (principal: Principal, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    app.inject({ method, url, headers: asPrincipal(principal), payload });
  const facility = (overrides: object) => ({
    kind: 'DAY_CARE_STATION',
    name: '测试日间照料站',
    regionCode: community,
    address: '测试路 1 号',
    location: station,
    capacity: 30,
    beds: { total: 20, nursing: 10, occupied: 4 },
    ...overrides,
  });

  beforeAll(async () => {
    app = await bootTestApp(AppModule, SERVICE);
    for (const code of [county, street, community, quietCommunity]) {
      expect((await call(admin, 'PUT', `/regions/${code}`, { name: `区划${code.slice(-3)}`, centre: station })).statusCode).toBe(200);
    }
    expect((await call(admin, 'POST', '/facilities', facility({}))).statusCode).toBe(201);
    const institution = facility({ kind: 'INSTITUTION', name: '测试敬老院', location: north(-3_000), beds: { total: 30, nursing: 24, occupied: 28 } });
    expect((await call(admin, 'POST', '/facilities', institution)).statusCode).toBe(201);
    // A closed canteen right next to the far elders: closed service points do not draw the circle.
    expect((await call(admin, 'POST', '/facilities', facility({ kind: 'CANTEEN', name: '停业食堂', location: north(2_700), beds: { total: 0, nursing: 0, occupied: 0 }, open: false }))).statusCode).toBe(201);

    // The elders slice is built elsewhere; these documents carry just the fields coverage reads, plus
    // a distinct idCardHash: that slice's unique index would let only one document without it in on MongoDB.
    const path = [cityCode.slice(0, 2).padEnd(12, '0'), cityCode, county, street, community];
    const elders = app.get<Connection>(getConnectionToken()).collection<Record<string, unknown>>('elders');
    await elders.insertMany([
      ...homes.map((home, i) => ({ _id: elderIds[i], regionPath: path, categories: categories[i], homeCell: h3Cell(home), status: 'ACTIVE', idCardHash: `test-${uniqueSuffix()}` })),
      { _id: `elder-${uniqueSuffix()}`, regionPath: path, categories: ['LIVING_ALONE'], homeCell: h3Cell(north(100)), status: 'DECEASED', idCardHash: `test-${uniqueSuffix()}` },
    ] as never);
    expect((await call(admin, 'POST', '/family-care-beds', { elderId: elderIds[0], since: '2026-03-01', deviceIds: ['SOS-001'] })).statusCode).toBe(201);
  });
  afterAll(() => app?.close());

  it('checks the fixture: six homes lie within 1 km of the station, four beyond 1.4 km', () => {
    const distances = homes.map((h) => distanceMetres(station, h));
    expect(distances.filter((d) => d <= 810)).toHaveLength(6);
    expect(distances.filter((d) => d >= 1_490)).toHaveLength(4);
  });

  it('reports elders, beds per 1,000, nursing share, family beds and the 15-minute circle', async () => {
    const res = await call(admin, 'GET', `/coverage/${street}`);
    expect(res.statusCode).toBe(200);
    const figures = res.json();
    expect(figures.elders.active).toBe(10);
    expect(figures.elders.byCategory).toEqual(
      expect.arrayContaining([
        { category: 'LIVING_ALONE', labelZh: '独居', labelEn: 'Living alone', count: 2 },
        expect.objectContaining({ category: 'ADVANCED_AGE', count: 2 }),
        expect.objectContaining({ category: 'DESTITUTE', count: 1 }),
        expect.objectContaining({ category: 'LOW_INCOME', count: 0 }),
      ]),
    );
    // 50 beds (20 + 30 + 0) for 10 elders; 34 of them nursing-type.
    expect(figures.beds).toEqual({ total: 50, nursing: 34, perThousandElders: 5_000, nursingShare: 0.68 });
    expect(figures.familyCareBeds).toBe(1);
    expect(figures.serviceCircle).toMatchObject({ walkMetres: 1_000, servicePoints: 1, coveredElders: 6, share: 0.6 });
    expect(figures.facilityCoverage).toEqual({
      streetsWithCentre: { covered: 0, total: 1, share: 0 },
      communitiesWithStation: { covered: 1, total: 2, share: 0.5 },
    });
  });

  it('widens the circle with walkMetres and bounds it', async () => {
    const wide = (await call(admin, 'GET', `/coverage/${community}?walkMetres=2000`)).json();
    expect(wide.serviceCircle).toMatchObject({ walkMetres: 2_000, coveredElders: 8, share: 0.8 });
    const tooFar = await call(admin, 'GET', `/coverage/${community}?walkMetres=9000`);
    expect(tooFar.statusCode).toBe(400);
    expect(tooFar.json()).toMatchObject({ field: 'walkMetres' });
  });

  it('shows nothing outside the caller’s subtree and nothing to operators', async () => {
    const otherCounty: Principal = { userId: 'other', role: 'auditor', regionCode: `${cityCode.slice(0, 4)}${county.slice(4, 6) === '99' ? '98' : '99'}000000` };
    expect((await call(otherCounty, 'GET', `/coverage/${street}`)).statusCode).toBe(404);
    const operator: Principal = { userId: 'op', role: 'provider_operator', providerId: 'p-1' };
    expect((await call(operator, 'GET', `/coverage/${street}`)).statusCode).toBe(403);
    const quiet = (await call(admin, 'GET', `/coverage/${quietCommunity}`)).json();
    expect(quiet).toMatchObject({ elders: { active: 0 }, beds: { perThousandElders: null }, serviceCircle: { share: null } });
  });
});
