import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Collection } from 'mongodb';
import pino from 'pino';
import { EventPublisher, OutboxRelay, createKafka, newEnvelope, outboxFields, withOutbox } from '../src';
import { collect, testBrokers, testDatabase, testKafka, testTopic, waitFor } from '../src/testing';
import { ensureTopics } from '../src/admin';
import { ChildEvent } from './outbox-fixtures';

// The outbox promise, proven against the real broker and database: a stored change's events are
// published, in per-key order, even when the process dies between storing and publishing or
// between publishing and clearing.

const repoRoot = path.resolve(__dirname, '../../..');
const log = pino({ level: 'warn' });

describe('outbox relay (real Kafka + database)', () => {
  const kafka = testKafka();
  let database: Awaited<ReturnType<typeof testDatabase>>;
  let publisher: EventPublisher;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    database = await testDatabase();
    publisher = new EventPublisher(createKafka('outbox-test', testBrokers(), log));
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await publisher.disconnect();
    await database.drop();
  });

  function newRelay(options: ConstructorParameters<typeof OutboxRelay>[3] = {}) {
    return new OutboxRelay(publisher, database.db.collection('outbox_leases') as never, log, { idlePollMs: 50, leaseMs: 1_000, ...options });
  }

  function runChild(stage: 'stored' | 'published', topicName: string, count: number, waitForLine: string): Promise<ChildProcess> {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', path.join(__dirname, 'outbox-child.ts'), stage, topicName, database.url, database.name, testBrokers().join(','), String(count)],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SWC_NODE_PROJECT: path.join(repoRoot, 'tsconfig.base.json') } },
    );
    children.push(child);
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk) => {
        out += chunk;
        if (out.includes(waitForLine)) resolve(child);
      });
      child.on('exit', (code) => reject(new Error(`child exited (${code}) before ${waitForLine}`)));
    });
  }

  const killed = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      child.removeAllListeners('exit');
      child.on('exit', () => resolve());
      child.kill('SIGKILL');
    });

  it('publishes every key’s events in the order they were stored', async () => {
    const topic = testTopic('orders', 3);
    await ensureTopics(kafka, [topic]);
    const event = ChildEvent(topic);
    const orders: Collection = database.db.collection(`orders_${topic.name.split('.')[2]}`);
    const relay = newRelay();
    await relay.register(orders);
    const sink = await collect(kafka, [topic.name]);
    relay.start();
    try {
      const keys = ['a', 'b', 'c', 'd', 'e'];
      for (const key of keys) {
        const envelope = newEnvelope('test', event, { key, payload: { orderId: key, seq: 0 } });
        await orders.insertOne({ _id: key as never, seq: 0, ...outboxFields([{ definition: event, envelope }]) });
      }
      // Interleave updates across keys while the relay is running, so it sees partial outboxes.
      for (let seq = 1; seq <= 20; seq++) {
        await Promise.all(
          keys.map((key) => {
            const envelope = newEnvelope('test', event, { key, payload: { orderId: key, seq } });
            return orders.updateOne({ _id: key as never }, withOutbox({ $set: { seq } }, [{ definition: event, envelope }]));
          }),
        );
      }
      await waitFor(() => new Set(sink.records.map((r) => JSON.parse(r.value).eventId)).size === 105, 'all 105 events');
      for (const key of keys) {
        const seen = new Set<string>();
        const sequence = sink.records
          .filter((r) => r.key === key)
          .map((r) => JSON.parse(r.value))
          .filter((e) => !seen.has(e.eventId) && seen.add(e.eventId))
          .map((e) => e.payload.seq);
        expect(sequence).toEqual(Array.from({ length: 21 }, (_, i) => i));
      }
      await waitFor(async () => (await orders.countDocuments({ outboxPending: true })) === 0, 'the outboxes to be cleared');
    } finally {
      await relay.stop();
      await sink.stop();
    }
  });

  it('loses no event when the process is killed after storing and before publishing', async () => {
    const topic = testTopic('killed-stored', 3);
    await ensureTopics(kafka, [topic]);
    const child = await runChild('stored', topic.name, 25, 'STORED');
    await killed(child);

    const orders = database.db.collection('orders');
    expect(await orders.countDocuments({ outboxPending: true })).toBe(25);
    const sink = await collect(kafka, [topic.name]);
    const relay = newRelay();
    await relay.register(orders);
    relay.start();
    try {
      await waitFor(() => new Set(sink.records.map((r) => r.key)).size === 25, 'all 25 orders’ events after the restart');
    } finally {
      await relay.stop();
      await sink.stop();
      await orders.deleteMany({});
    }
  });

  it('publishes again, never loses, when killed after publishing and before clearing', async () => {
    const topic = testTopic('killed-published', 3);
    await ensureTopics(kafka, [topic]);
    const event = ChildEvent(topic);
    const orders = database.db.collection('orders');
    const stored: string[] = [];
    for (let i = 0; i < 10; i++) {
      const envelope = newEnvelope('test', event, { key: `order-${i}`, payload: { orderId: `order-${i}`, seq: 0 } });
      stored.push(envelope.eventId);
      await orders.insertOne({ _id: `order-${i}` as never, ...outboxFields([{ definition: event, envelope }]) });
    }
    const sink = await collect(kafka, [topic.name]);
    const child = await runChild('published', topic.name, 10, 'PUBLISHED');
    await killed(child);
    try {
      await waitFor(() => sink.records.length >= 10, 'the child’s acknowledged publish');
      expect(await orders.countDocuments({ outboxPending: true })).toBe(10); // never cleared

      const relay = newRelay(); // a new process; it takes over once the dead one's lease expires
      await relay.register(orders);
      relay.start();
      await waitFor(async () => (await orders.countDocuments({ outboxPending: true })) === 0, 'the restarted relay to clear');
      await relay.stop();
      // Published twice — once by the dead process, once by its successor; consumers dedupe by eventId.
      await waitFor(() => sink.records.length >= 20, 'the republished events');
      const ids = sink.records.map((r) => JSON.parse(r.value).eventId);
      expect(new Set(ids)).toEqual(new Set(stored)); // every event, and nothing else
    } finally {
      await sink.stop();
    }
  });
});
