import { insertOnce, isDuplicateKeyError } from '../src';
import { testDatabase } from '../src/testing';

// The two database properties the outbox, the ledger and every idempotent consumer rest on,
// checked against whatever MONGO_URL points at (FerretDB locally and in CI, MongoDB in Docker).

describe('database guarantees', () => {
  let database: Awaited<ReturnType<typeof testDatabase>>;
  beforeAll(async () => (database = await testDatabase()));
  afterAll(() => database.drop());

  it('applies concurrent updates of one document atomically (none lost)', async () => {
    const counters = database.db.collection<{ _id: string; n: number; log: number[] }>('counters');
    await counters.insertOne({ _id: 'c', n: 0, log: [] });
    await Promise.all(Array.from({ length: 100 }, (_, i) => counters.updateOne({ _id: 'c' }, { $inc: { n: 1 }, $push: { log: i } })));
    const doc = await counters.findOne({ _id: 'c' });
    expect(doc?.n).toBe(100);
    expect(doc?.log).toHaveLength(100);
  });

  it('refuses a second document with the same unique key, as duplicate key 11000', async () => {
    const effects = database.db.collection<{ _id: string; fen: number }>('effects');
    expect(await insertOnce(effects, { _id: 'charge:evt-1', fen: 100 })).toBe(true);
    expect(await insertOnce(effects, { _id: 'charge:evt-1', fen: 100 })).toBe(false);
    await effects.createIndex({ ref: 1 }, { unique: true });
    await effects.insertOne({ _id: 'a', fen: 1, ref: 'r-1' } as never);
    const second = effects.insertOne({ _id: 'b', fen: 1, ref: 'r-1' } as never);
    const error = await second.catch((e: unknown) => e);
    expect(isDuplicateKeyError(error)).toBe(true);
    expect(await effects.countDocuments({})).toBe(2);
  });
});
