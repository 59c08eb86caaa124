import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { defineEvent, type PayloadOf } from '@yiyang/contracts';
import type { Collection } from 'mongodb';
import { z } from 'zod';
import {
  EventPublisher,
  HandleEvent,
  MessagingModule,
  effectId,
  insertOnce,
  newEnvelope,
  type EventContext,
} from '../src';
import { collect, testBrokers, testDatabase, testKafka, testTopic, uniqueSuffix, waitFor } from '../src/testing';

// Through the real broker and database: the consumer's promises to handlers and to operators.

const topic = testTopic('visits', 2);
const VisitVerified = defineEvent({
  topic,
  type: 'test.visit.verified',
  version: 1,
  payload: z.object({ visitId: z.string(), fen: z.number().int(), failTimes: z.number().int().default(0) }),
});
type Verified = PayloadOf<typeof VisitVerified>;

let charges: Collection<{ _id: string; visitId: string; fen: number }>;
const attempts = new Map<string, number>();
const handled: string[] = [];

@Injectable()
class ChargeOnVerifiedVisit {
  @HandleEvent(VisitVerified)
  async charge(payload: Verified, ctx: EventContext): Promise<void> {
    attempts.set(payload.visitId, (attempts.get(payload.visitId) ?? 0) + 1);
    if (ctx.attempt <= payload.failTimes) throw new Error(`database hiccup #${ctx.attempt}`);
    // The effect's id comes from the event, so a redelivery finds it already stored.
    await insertOnce(charges, { _id: effectId(ctx.envelope.eventId, 'charge'), visitId: payload.visitId, fen: payload.fen });
    handled.push(payload.visitId);
  }
}

describe('event consumer (real Kafka + database)', () => {
  let app: TestingModule;
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let publisher: EventPublisher;
  const kafka = testKafka();

  const publish = (payload: Verified & { failTimes?: number }, key = payload.visitId) => {
    const envelope = newEnvelope('test', VisitVerified, { key, payload });
    return publisher.publish([envelope], () => topic.name).then(() => envelope);
  };
  const countCharges = (visitId: string) => charges.countDocuments({ visitId });

  beforeAll(async () => {
    database = await testDatabase();
    charges = database.db.collection('charges');
    app = await Test.createTestingModule({
      imports: [
        MessagingModule.forRootAsync({
          useFactory: () => ({
            service: 'test',
            brokers: testBrokers(),
            groupPrefix: `test-${uniqueSuffix()}`,
            extraTopics: [topic],
            retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 200 },
          }),
        }),
      ],
      providers: [ChargeOnVerifiedVisit],
    }).compile();
    await app.init();
    publisher = app.get(EventPublisher);
  });

  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('retries a handler that fails twice and stores its effect once', async () => {
    await publish({ visitId: 'flaky', fen: 4_000, failTimes: 2 });
    await waitFor(() => handled.includes('flaky'), 'the flaky visit to be charged');
    expect(attempts.get('flaky')).toBe(3);
    expect(await countCharges('flaky')).toBe(1);
  });

  it('gives a redelivered event one effect', async () => {
    const envelope = newEnvelope('test', VisitVerified, { key: 'twice', payload: { visitId: 'twice', fen: 2_500, failTimes: 0 } });
    // The same envelope twice is exactly what a producer retry or a consumer restart looks like.
    await publisher.publish([envelope, envelope], () => topic.name);
    await waitFor(() => handled.filter((v) => v === 'twice').length === 2, 'both deliveries to be handled');
    expect(await countCharges('twice')).toBe(1);
  });

  it('dead-letters a poison message after the retry limit and keeps the partition flowing', async () => {
    const dlq = await collect(kafka, [`${topic.name}.dlq`]);
    try {
      // Same key ⇒ same partition: the good message sits right behind the poison one.
      const poison = await publish({ visitId: 'poison', fen: 100, failTimes: 99 }, 'elder-7');
      await publish({ visitId: 'after-poison', fen: 300, failTimes: 0 }, 'elder-7');
      await waitFor(() => handled.includes('after-poison'), 'the message behind the poison one');
      expect(attempts.get('poison')).toBe(3);
      const parked = await waitFor(() => dlq.records.find((r) => r.eventId === poison.eventId), 'the DLQ record');
      expect(parked.headers['yiyang-dlq-reason']).toBe('HANDLER');
      expect(parked.headers['yiyang-dlq-attempts']).toBe('3');
      expect(parked.headers['yiyang-dlq-error']).toContain('database hiccup #3');
      expect(parked.headers['yiyang-dlq-original-topic']).toBe(topic.name);
      expect(JSON.parse(parked.value).eventId).toBe(poison.eventId); // the original, untouched
      expect(await countCharges('poison')).toBe(0);
    } finally {
      await dlq.stop();
    }
  });

  it('dead-letters a message that breaks its schema at once, without calling the handler', async () => {
    const dlq = await collect(kafka, [`${topic.name}.dlq`]);
    try {
      const producer = kafka.producer();
      await producer.connect();
      const bad = { ...newEnvelope('test', VisitVerified, { key: 'elder-8', payload: { visitId: 'x', fen: 1, failTimes: 0 } }) };
      bad.payload = { visitId: 'broken', fen: 'twelve yuan' } as never;
      await producer.send({
        topic: topic.name,
        messages: [
          { key: 'elder-8', value: JSON.stringify(bad) },
          { key: 'elder-8', value: 'not even json' },
        ],
      });
      await producer.disconnect();
      await publish({ visitId: 'after-bad-schema', fen: 500, failTimes: 0 }, 'elder-8');
      await waitFor(() => handled.includes('after-bad-schema'), 'the message behind the malformed ones');
      const parked = await waitFor(() => (dlq.records.filter((r) => r.key === 'elder-8').length >= 2 ? dlq.records : null), 'both DLQ records');
      const reasons = parked.filter((r) => r.key === 'elder-8').map((r) => [r.headers['yiyang-dlq-reason'], r.headers['yiyang-dlq-error']]);
      expect(reasons).toEqual([
        ['SCHEMA', expect.stringContaining('payload.fen')],
        ['SCHEMA', 'value is not JSON'],
      ]);
      expect(attempts.has('broken')).toBe(false);
    } finally {
      await dlq.stop();
    }
  });
});
