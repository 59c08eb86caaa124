import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { defineEvent, type PayloadOf } from '@yiyang/contracts';
import type { Collection } from 'mongodb';
import { z } from 'zod';
import { EventPublisher, HandleEventBatch, MessagingModule, effectId, newEnvelope, type EventBatch } from '../src';
import { collect, testBrokers, testDatabase, testKafka, testTopic, uniqueSuffix, waitFor } from '../src/testing';

// Batch handlers through the real broker and database: whole batches in partition order, schema
// violations parked before the handler, offsets committed only after success, a poison record
// isolated and dead-lettered alone while its neighbours take effect.

const topic = testTopic('readings', 2);
const gatedTopic = testTopic('gated', 1);
const Reading = defineEvent({
  topic,
  type: 'test.reading',
  version: 1,
  payload: z.object({ deviceId: z.string(), seq: z.number().int(), failTimes: z.number().int().default(0) }),
});
const Gated = defineEvent({ topic: gatedTopic, type: 'test.gated', version: 1, payload: z.object({ n: z.number().int() }) });
const guardedTopic = testTopic('guarded', 1);
const Guarded = defineEvent({ topic: guardedTopic, type: 'test.guarded', version: 1, payload: z.object({ n: z.number().int(), tag: z.string().default('from-zod') }) });
/** A handler owner's precompiled check: only ever accepts what the schema accepts (here: stricter — it wants `tag`). */
const guardCalls: unknown[] = [];
const guard = (p: unknown) => {
  guardCalls.push(p);
  const o = p as { n?: unknown; tag?: unknown } | null;
  return typeof o === 'object' && o !== null && Number.isInteger(o.n) && typeof o.tag === 'string';
};
const guardedSeen: Record<string, unknown>[] = [];
type ReadingPayload = PayloadOf<typeof Reading>;

let effects: Collection<{ _id: string; deviceId: string; seq: number }>;
const calls: { size: number; attempt: number; isolated: boolean; partition: number }[] = [];
const seen = new Map<string, number[]>(); // deviceId → seqs in the order the handler saw them
const batchAttempts = new Map<string, number>(); // deviceId:seq → times it was offered
let gate: Promise<void> = Promise.resolve();
const gatedSeen: number[] = [];

@Injectable()
class ReadingsInBatches {
  @HandleEventBatch(Reading, { group: 'batch', maxBatchSize: 50, consumer: { maxWaitTimeInMs: 100, partitionsConsumedConcurrently: 2 } })
  async onReadings(batch: EventBatch<ReadingPayload>): Promise<void> {
    calls.push({ size: batch.events.length, attempt: batch.attempt, isolated: batch.isolated, partition: batch.partition });
    for (const { payload } of batch.events) {
      const id = `${payload.deviceId}:${payload.seq}`;
      batchAttempts.set(id, (batchAttempts.get(id) ?? 0) + 1);
    }
    // A poison record fails every batch it is in; a flaky one fails its first `failTimes` offers.
    for (const { payload } of batch.events) {
      const offered = batchAttempts.get(`${payload.deviceId}:${payload.seq}`) ?? 0;
      if (offered <= payload.failTimes) throw new Error(`cannot store ${payload.deviceId}:${payload.seq}`);
    }
    if (batch.events.length > 0) {
      // Idempotent effects: a batch retried in whole or in part stores each reading once.
      await effects
        .bulkWrite(
          batch.events.map(({ payload, envelope }) => ({
            updateOne: {
              filter: { _id: effectId(envelope.eventId, 'reading') },
              update: { $setOnInsert: { deviceId: payload.deviceId, seq: payload.seq } },
              upsert: true,
            },
          })),
          { ordered: false },
        );
    }
    for (const { payload } of batch.events) seen.set(payload.deviceId, [...(seen.get(payload.deviceId) ?? []), payload.seq]);
  }

  @HandleEventBatch(Guarded, { group: 'guarded', consumer: { maxWaitTimeInMs: 100 }, payloadGuard: guard })
  async onGuarded(batch: EventBatch<PayloadOf<typeof Guarded>>): Promise<void> {
    guardedSeen.push(...batch.events.map((e) => e.payload as Record<string, unknown>));
  }

  @HandleEventBatch(Gated, { group: 'gated', consumer: { maxWaitTimeInMs: 100 } })
  async onGated(batch: EventBatch<PayloadOf<typeof Gated>>): Promise<void> {
    await gate;
    gatedSeen.push(...batch.events.map((e) => e.payload.n));
  }
}

describe('batch event consumer (real Kafka + database)', () => {
  let app: TestingModule;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let publisher: EventPublisher;
  const kafka = testKafka();
  const groupPrefix = `test-${uniqueSuffix()}`;

  const readings = (deviceId: string, count: number, failTimes: (seq: number) => number = () => 0) =>
    Array.from({ length: count }, (_, seq) => newEnvelope('test', Reading, { key: deviceId, payload: { deviceId, seq, failTimes: failTimes(seq) } }));

  beforeAll(async () => {
    database = await testDatabase();
    effects = database.db.collection('effects');
    app = await Test.createTestingModule({
      imports: [
        MessagingModule.forRootAsync({
          useFactory: () => ({
            service: 'test',
            brokers: testBrokers(),
            groupPrefix,
            extraTopics: [topic, gatedTopic, guardedTopic],
            retry: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 100 },
          }),
        }),
      ],
      providers: [ReadingsInBatches],
    }).compile();
    await app.init();
    publisher = app.get(EventPublisher);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('hands over whole batches, in partition order, no larger than maxBatchSize', async () => {
    const device = `dev-${uniqueSuffix()}`;
    const before = calls.length;
    await publisher.publish(readings(device, 400), () => topic.name);
    await waitFor(() => (seen.get(device)?.length ?? 0) >= 400, 'all 400 readings');
    expect(seen.get(device)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    const mine = calls.slice(before);
    expect(Math.max(...mine.map((c) => c.size))).toBeGreaterThan(1);
    expect(Math.max(...mine.map((c) => c.size))).toBeLessThanOrEqual(50);
    expect(await effects.countDocuments({ deviceId: device })).toBe(400);
  });

  it('retries a failing batch and stores each effect once', async () => {
    const device = `flaky-${uniqueSuffix()}`;
    await publisher.publish(readings(device, 30, (seq) => (seq === 7 ? 2 : 0)), () => topic.name);
    await waitFor(async () => (await effects.countDocuments({ deviceId: device })) === 30, 'the flaky batch to take effect');
    expect(batchAttempts.get(`${device}:7`)).toBe(3);
    expect(calls.some((c) => c.attempt === 3 && !c.isolated)).toBe(true);
  });

  it('isolates a poison record: dead-lettered alone, its neighbours take effect', async () => {
    const dlq = await collect(kafka, [`${topic.name}.dlq`]);
    try {
      const device = `poison-${uniqueSuffix()}`;
      const batch = readings(device, 20, (seq) => (seq === 5 ? 99 : 0));
      await publisher.publish(batch, () => topic.name);
      const parked = await waitFor(() => dlq.records.find((r) => r.eventId === batch[5].eventId), 'the poison record in the DLQ');
      expect(parked.headers['yiyang-dlq-reason']).toBe('HANDLER');
      expect(parked.headers['yiyang-dlq-error']).toContain(`cannot store ${device}:5`);
      await waitFor(async () => (await effects.countDocuments({ deviceId: device })) === 19, 'the 19 good readings');
      const stored = await effects.find({ deviceId: device }).toArray();
      expect(stored.map((e) => e.seq).sort((a, b) => a - b)).toEqual([...Array(20).keys()].filter((s) => s !== 5));
      expect(calls.some((c) => c.isolated && c.size === 1)).toBe(true);
      expect(dlq.records.filter((r) => r.key === device)).toHaveLength(1);
    } finally {
      await dlq.stop();
    }
  });

  it('dead-letters schema violations before the handler sees the batch', async () => {
    const dlq = await collect(kafka, [`${topic.name}.dlq`]);
    try {
      const device = `bad-${uniqueSuffix()}`;
      const good = readings(device, 3);
      const broken = { ...good[1], payload: { deviceId: device, seq: 'one' } };
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: topic.name,
        messages: [
          { key: device, value: JSON.stringify(good[0]) },
          { key: device, value: JSON.stringify(broken) },
          { key: device, value: 'not json' },
          { key: device, value: JSON.stringify(good[2]) },
        ],
      });
      await producer.disconnect();
      await waitFor(() => (seen.get(device)?.length ?? 0) >= 2, 'the two valid readings');
      expect(seen.get(device)).toEqual([0, 2]);
      const parked = await waitFor(() => (dlq.records.filter((r) => r.key === device).length >= 2 ? dlq.records : null), 'both DLQ records');
      expect(parked.filter((r) => r.key === device).map((r) => [r.headers['yiyang-dlq-reason'], r.headers['yiyang-dlq-error']])).toEqual([
        ['SCHEMA', expect.stringContaining('payload.seq')],
        ['SCHEMA', 'value is not JSON'],
      ]);
    } finally {
      await dlq.stop();
    }
  });

  it('a payload guard stands in for zod only where it accepts; zod still decides, defaults and dead-letters the rest', async () => {
    const dlq = await collect(kafka, [`${guardedTopic.name}.dlq`]);
    try {
      const key = `g-${uniqueSuffix()}`;
      const ok = newEnvelope('test', Guarded, { key, payload: { n: 1, tag: 'guarded' } });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: guardedTopic.name,
        messages: [
          // Accepted by the guard: handed over as parsed from JSON (the extra field is not stripped).
          { key, value: JSON.stringify({ ...ok, payload: { n: 1, tag: 'guarded', extra: key } }) },
          // Refused by the guard, accepted by zod (with its default).
          { key, value: JSON.stringify({ ...ok, eventId: newEnvelope('test', Guarded, { key, payload: { n: 2, tag: 'only-its-id-is-used' } }).eventId, payload: { n: 2, extra: key } }) },
          // Refused by both: dead-lettered with zod's message.
          { key, value: JSON.stringify({ ...ok, payload: { n: 'three', tag: 'x', extra: key } }) },
          // A broken envelope (the precompiled envelope check refuses, zod words it).
          { key, value: JSON.stringify({ ...ok, eventId: 'not-a-uuid', payload: { n: 4, tag: 'x', extra: key } }) },
        ],
      });
      await producer.disconnect();
      const parked = await waitFor(() => (dlq.records.filter((r) => r.key === key).length >= 2 ? dlq.records.filter((r) => r.key === key) : null), 'two DLQ records');
      expect(parked.map((r) => [r.headers['yiyang-dlq-reason'], r.headers['yiyang-dlq-error']])).toEqual([
        ['SCHEMA', expect.stringContaining('payload.n')],
        ['SCHEMA', expect.stringContaining('envelope.eventId')],
      ]);
      await waitFor(() => guardedSeen.filter((p) => p['extra'] === key || p['n'] === 2).length >= 2, 'the two valid payloads');
      expect(guardedSeen.filter((p) => p['extra'] === key)).toEqual([{ n: 1, tag: 'guarded', extra: key }]);
      expect(guardedSeen.filter((p) => p['n'] === 2 && p['extra'] === undefined)).toEqual([{ n: 2, tag: 'from-zod' }]);
      expect(guardCalls.length).toBeGreaterThanOrEqual(3);
    } finally {
      await dlq.stop();
    }
  });

  it('commits offsets only after the handler returned', async () => {
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const envelopes = Array.from({ length: 10 }, (_, n) => newEnvelope('test', Gated, { key: 'k', payload: { n } }));
    await publisher.publish(envelopes, () => gatedTopic.name);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = async () => {
        const [t] = await admin.fetchOffsets({ groupId: `${groupPrefix}.gated`, topics: [gatedTopic.name] });
        return Number(t.partitions[0].offset);
      };
      const [{ high }] = await admin.fetchTopicOffsets(gatedTopic.name);
      await new Promise((r) => setTimeout(r, 1_500)); // the handler is holding the batch
      expect(gatedSeen).toEqual([]);
      expect(await committed()).toBeLessThan(Number(high));
      open();
      await waitFor(async () => (await committed()) === Number(high), 'the offsets to be committed');
      expect(gatedSeen).toEqual(envelopes.map((_, n) => n));
    } finally {
      await admin.disconnect();
    }
  });
});
