import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RegistryTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import { AppModule } from '../app.module';
import { SERVICE } from '../service';

describe('regions (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  const city: Principal = { userId: 'city-admin', role: 'civil_affairs_admin', regionCode: '130200000000' };
  const otherCounty: Principal = { userId: 'other', role: 'civil_affairs_admin', regionCode: '130204000000' };
  const put = (principal: Principal, code: string, body: object, correlationId = uniqueSuffix()) =>
    app.inject({ method: 'PUT', url: `/regions/${code}`, headers: { ...asPrincipal(principal), 'x-correlation-id': correlationId }, payload: body });

  beforeAll(async () => {
    app = await bootTestApp(AppModule, SERVICE);
  });
  afterAll(() => app?.close());

  it('builds the county → street → community tree and announces each region', async () => {
    const sink = await collect(testKafka(), [RegistryTopics.regions.name]);
    try {
      const correlationId = `regions-${uniqueSuffix()}`;
      expect((await put(city, '130203000000', { name: '路北区', centre: { lat: 39.63, lng: 118.18 } }, correlationId)).statusCode).toBe(200);
      expect((await put(city, '130203001000', { name: '乔屯街道', centre: { lat: 39.64, lng: 118.17 } })).statusCode).toBe(200);
      const community = await put(city, '130203001001', { name: '文北社区', centre: { lat: 39.641, lng: 118.171 } });
      expect(community.json()).toMatchObject({ level: 'COMMUNITY', parentCode: '130203001000', version: 1 });

      const county: Principal = { userId: 'county-admin', role: 'civil_affairs_admin', regionCode: '130203000000' };
      const list = await app.inject({ method: 'GET', url: '/regions', headers: asPrincipal(county) });
      expect(list.json().map((r: { code: string }) => r.code)).toEqual(['130203000000', '130203001000', '130203001001']);

      const announced = await waitFor(
        () => sink.records.find((r) => r.correlationId === correlationId),
        'the region event',
      );
      expect(JSON.parse(announced.value).payload.region).toMatchObject({ code: '130203000000', name: '路北区', level: 'COUNTY' });
    } finally {
      await sink.stop();
    }
  });

  it('refuses a community whose street is not registered, naming the field', async () => {
    const res = await put(city, '130203009001', { name: '孤儿社区', centre: { lat: 39.6, lng: 118.1 } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'REGISTRY.REGION_PARENT_MISSING', field: 'code' });
  });

  it('keeps another county’s admin out: cannot write, cannot read', async () => {
    expect((await put(otherCounty, '130203002000', { name: '外区街道', centre: { lat: 39.6, lng: 118.1 } })).statusCode).toBe(403);
    const read = await app.inject({ method: 'GET', url: '/regions/130203000000', headers: asPrincipal(otherCounty) });
    expect(read.statusCode).toBe(404);
  });

  it('rejects a malformed region with a 400 naming the field', async () => {
    const res = await put(city, '130203003000', { name: '', centre: { lat: 39.6, lng: 118.1 } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'name' });
  });
});
