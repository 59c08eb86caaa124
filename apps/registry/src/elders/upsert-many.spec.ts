import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { getModelToken } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { Elder } from './elder.schema';
import { EldersService, hydrate, type UpsertResult } from './elders.service';
import { bootRegistry, buildRegions, closeRegistry, LUBEI, rosterRow } from './test-support';

const count = (results: UpsertResult[]) => {
  const tally: Record<string, number> = {};
  for (const r of results) {
    const key = 'outcome' in r ? r.outcome : r.error.code;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
};

describe('roster batch upsert (real database)', () => {
  let app: NestFastifyApplication;
  let service: EldersService;
  let elders: Model<Elder>;

  beforeAll(async () => {
    app = await bootRegistry();
    await buildRegions(app);
    service = app.get(EldersService);
    elders = app.get(getModelToken(Elder.name));
  });
  afterAll(() => closeRegistry(app));

  it('creates, updates and leaves unchanged by ID number, and a re-run duplicates nothing', async () => {
    // 10 people are on file already; the roster repeats them, 5 with a new address.
    const existing = Array.from({ length: 10 }, (_, i) => rosterRow(5_000 + i));
    expect(count(await service.upsertMany(LUBEI, existing, 'seed'))).toEqual({ created: 10 });

    const rows = [
      ...Array.from({ length: 1_990 }, (_, i) => rosterRow(10_000 + i)),
      ...existing.map((row, i) => (i < 5 ? { ...row, homeAddress: `${row.homeAddress}（新址）` } : row)),
    ];
    const started = performance.now();
    const results = await service.upsertMany(LUBEI, rows, 'roster-1');
    const seconds = (performance.now() - started) / 1_000;
    process.stdout.write(`upsertMany: ${rows.length} rows in ${seconds.toFixed(2)} s = ${Math.round(rows.length / seconds)} rows/s\n`);
    expect(count(results)).toEqual({ created: 1_990, updated: 5, unchanged: 5 });
    expect(results.map((r) => r.index)).toEqual(rows.map((_, i) => i));

    const rerun = await service.upsertMany(LUBEI, rows, 'roster-2');
    expect(count(rerun)).toEqual({ unchanged: 2_000 });
    expect(await elders.countDocuments({})).toBe(2_000);
    const stored = await elders.findOne({ name: existing[0].name }).lean();
    expect(hydrate(stored as never)).toMatchObject({ version: 2, homeAddress: `${existing[0].homeAddress}（新址）` });
    // As stored: the cold profile fields packed in one string, re-packed by the update (no top-level
    // copy, no stale value), the identifiers inside it still ciphertext.
    const raw = stored as unknown as Record<string, unknown>;
    for (const field of ['homeAddress', 'idCardCipher', 'guardians', 'home', 'gender']) expect(raw).not.toHaveProperty(field);
    const packed = JSON.parse(raw['packed'] as string) as Record<string, unknown>;
    expect(packed).toMatchObject({ homeAddress: `${existing[0].homeAddress}（新址）`, idCardCipher: expect.stringMatching(/^v1\./) });
    expect(raw['packed']).not.toContain(existing[0].idCardNumber);
  });

  it('reports bad rows by index with field, reason and code, and keeps going', async () => {
    const good = rosterRow(20_001);
    const results = await service.upsertMany(
      LUBEI,
      [
        good,
        rosterRow(20_002, { idCardNumber: `${good.idCardNumber.slice(0, 17)}${good.idCardNumber[17] === '1' ? '2' : '1'}` }),
        rosterRow(20_003, { regionCode: '130202001001' }),
        { ...good, name: '重复行' },
        rosterRow(20_004, { phone: '110' }),
      ],
      'roster-bad',
    );
    expect(results[0]).toMatchObject({ index: 0, outcome: 'created' });
    expect(results[1]).toMatchObject({ index: 1, error: { field: 'idCardNumber', code: 'REGISTRY.ID_CARD_INVALID' } });
    expect(results[2]).toMatchObject({ index: 2, error: { field: 'regionCode', code: 'REGISTRY.REGION_NOT_FOUND' } });
    expect(results[3]).toMatchObject({ index: 3, error: { field: 'idCardNumber', code: 'REGISTRY.ELDER_DUPLICATE' } });
    expect(results[4]).toMatchObject({ index: 4, error: { field: 'phone', code: 'VALIDATION.INVALID_INPUT' } });
  });
});
