// A service process that the outbox test kills with SIGKILL at the worst moments.
//   stage=stored     → stores aggregates with their events, says STORED, never relays
//   stage=published  → relays; after the broker acknowledged, says PUBLISHED and hangs before clearing
import 'reflect-metadata';
import { defineTopic } from '@yiyang/contracts';
import { MongoClient } from 'mongodb';
import pino from 'pino';
import { EventPublisher, OutboxRelay, createKafka, newEnvelope, outboxFields } from '../src';
import { ChildEvent } from './outbox-fixtures';

async function main() {
  const [stage, topicName, mongoUrl, dbName, brokers, countText] = process.argv.slice(2);
  const count = Number(countText);
  const topic = defineTopic({ name: topicName, partitions: 3, key: 'id' });
  const event = ChildEvent(topic);
  const client = await MongoClient.connect(mongoUrl);
  const orders = client.db(dbName).collection('orders');
  const log = pino({ level: 'warn' });

  if (stage === 'stored') {
    for (let i = 0; i < count; i++) {
      const envelope = newEnvelope('child', event, { key: `order-${i}`, payload: { orderId: `order-${i}`, seq: 0 } });
      await orders.insertOne({ _id: `order-${i}` as never, state: 'PLACED', ...outboxFields([{ definition: event, envelope }]) });
    }
    process.stdout.write('STORED\n');
    await new Promise(() => undefined); // wait to be killed
  }

  if (stage === 'published') {
    const publisher = new EventPublisher(createKafka('child', brokers.split(','), log));
    const relay = new OutboxRelay(publisher, client.db(dbName).collection('outbox_leases') as never, log, {
      leaseMs: 1_000,
      afterPublish: async () => {
        process.stdout.write('PUBLISHED\n');
        await new Promise(() => undefined); // killed here: published but never cleared
      },
    });
    await relay.register(orders);
    relay.start();
  }
}

void main();
