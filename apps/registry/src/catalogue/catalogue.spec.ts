import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import { AppModule } from '../app.module';
import { SERVICE } from '../service';
import { priceOn } from './prices.service';
import { CATALOGUE_SEED } from './seed';

describe('price in force', () => {
  const at = (iso: string) => new Date(iso);
  const entries = [
    { priceFen: 1_500, effectiveFrom: '2026-01-01', recordedAt: at('2025-12-01T00:00:00Z'), recordedBy: 'a' },
    { priceFen: 1_800, effectiveFrom: '2026-07-01', recordedAt: at('2026-05-01T00:00:00Z'), recordedBy: 'a' },
    { priceFen: 1_700, effectiveFrom: '2026-07-01', recordedAt: at('2026-06-01T00:00:00Z'), recordedBy: 'b' },
  ];
  it('takes the newest effective entry, a later correction for the same day winning', () => {
    expect(priceOn(entries, '2025-12-31')).toBeUndefined();
    expect(priceOn(entries, '2026-06-30')?.priceFen).toBe(1_500);
    expect(priceOn(entries, '2026-07-01')?.priceFen).toBe(1_700);
  });
});

describe('catalogue (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  const admin: Principal = { userId: 'admin', role: 'civil_affairs_admin', regionCode: '130200000000' };
  beforeAll(async () => {
    app = await bootTestApp(AppModule, SERVICE);
  });
  afterAll(() => app?.close());

  it('seeds the starter menu idempotently and serves it to every role', async () => {
    await app.inject({ method: 'POST', url: '/catalogue/items/seed', headers: asPrincipal(admin) });
    const again = (await app.inject({ method: 'POST', url: '/catalogue/items/seed', headers: asPrincipal(admin) })).json();
    expect(again).toEqual({ created: [], unchanged: CATALOGUE_SEED.map((i) => i.code) });
    const elder: Principal = { userId: 'e', role: 'elder', elderIds: ['e-1'] };
    const item = await app.inject({ method: 'GET', url: '/catalogue/items/MEAL_DELIVERY', headers: asPrincipal(elder) });
    expect(item.json()).toMatchObject({ nameZh: '送餐上门', category: 'MEALS', categoryLabel: { zh: '助餐' }, unit: 'PER_MEAL' });
    expect((await app.inject({ method: 'POST', url: '/catalogue/items/seed', headers: asPrincipal(elder) })).statusCode).toBe(403);
    const bad = await app.inject({ method: 'PUT', url: '/catalogue/items/meal', headers: asPrincipal(admin), payload: { nameZh: 'x', nameEn: 'x', category: 'MEALS', unit: 'PER_MEAL', defaultDurationMinutes: 30 } });
    expect(bad.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'code' });
  });
});
