/**
 * Per-message CPU cost of each ingredient of the round trip, measured in-process without a broker
 * (so it is far less noisy than the end-to-end numbers on a shared 2-core machine). Explains where
 * the backbone spends its time relative to bare kafkajs:
 *
 *   node -r @swc-node/register bench/messaging/micro.ts
 *
 * kafkajs' own encoder/decoder are driven through its internal modules (kafkajs 2.2.4 layout), the
 * same code the producer and the fetch path run. Figures are µs of CPU per message, best of 9 trials.
 */
import { performance } from 'node:perf_hooks';
import type { KafkaMessage } from 'kafkajs';
import { v7 as uuidv7 } from 'uuid';
import { EnvelopeSchema, type Envelope } from '@yiyang/contracts';
import {
  EventConsumer,
  EventPublisher,
  envelopeHeaders,
  messagingMetrics,
  newEnvelope,
  type HandlerRegistration,
} from '@yiyang/messaging';
import { benchEvent, benchTopic, log, payloadOf, type OrderPlaced } from './harness';
import { Kafka, logLevel } from 'kafkajs';

const ProduceRequest = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: object) => {
  encode(): Promise<{ buffer: Buffer }>;
};
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(args: object): Promise<{ buffer: Buffer }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => unknown;
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  d: unknown,
) => Promise<{ records: unknown[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;

const BATCH = 500;
const TRIALS = 9;

interface Row {
  side: string;
  what: string;
  usPerMsg: number;
}
const rows: Row[] = [];

/**
 * µs of CPU per message: `fn` handles `perCall` messages per call. Process CPU time (user + system,
 * GC threads included) rather than wall time, and the minimum over TRIALS trials of ~200 ms each:
 * other load on the machine then barely shifts the figures.
 */
async function measure(
  side: string,
  what: string,
  perCall: number,
  fn: (i: number) => unknown,
): Promise<number> {
  let calls = 0;
  const t = performance.now();
  while (performance.now() - t < 200) await fn(calls++); // warm up and size a trial
  const perTrial = Math.max(1, calls);
  const samples: number[] = [];
  for (let k = 0; k < TRIALS; k++) {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < perTrial; i++) await fn(i);
    const cpu = process.cpuUsage(cpu0);
    samples.push((cpu.user + cpu.system) / (perTrial * perCall));
  }
  const us = Math.min(...samples);
  rows.push({ side, what, usPerMsg: us });
  process.stderr.write(`${side.padEnd(9)} ${what.padEnd(62)} ${us.toFixed(2).padStart(7)} µs/msg\n`);
  return us;
}

async function main() {
  const topic = benchTopic('micro');
  const event = benchEvent(topic);
  const payloads: OrderPlaced[] = Array.from({ length: BATCH }, (_, i) =>
    payloadOf(i, 'measure', performance.now()),
  );
  const envelopes = payloads.map((p) => newEnvelope('bench', event, { key: p.elderId, payload: p }));
  const json = {
    payload: payloads.map((p) => JSON.stringify(p)),
    envelope: envelopes.map((e) => JSON.stringify(e)),
  };
  process.stderr.write(
    `value size: payload ${json.payload[0].length} B, envelope ${json.envelope[0].length} B; ` +
      `4 headers ${JSON.stringify(envelopeHeaders(envelopes[0].type)).length} B\n`,
  );

  // ---- producer side
  await measure('produce', 'JSON.stringify(payload)              [baseline]', 1, (i) =>
    JSON.stringify(payloads[i % BATCH]),
  );
  await measure('produce', 'newEnvelope (zod payload parse + UUIDv7 + ISO date)', 1, (i) =>
    newEnvelope('bench', event, { key: payloads[i % BATCH].elderId, payload: payloads[i % BATCH] }),
  );
  await measure('produce', '  of which payload safeParse', 1, (i) =>
    event.payload.safeParse(payloads[i % BATCH]),
  );
  await measure('produce', '  of which uuidv7()', 1, () => uuidv7());
  await measure('produce', 'JSON.stringify(envelope)', 1, (i) => JSON.stringify(envelopes[i % BATCH]));
  await measure('produce', 'envelopeHeaders(envelope)', 1, (i) => envelopeHeaders(envelopes[i % BATCH].type));

  type Msg = { key: string; value: string; headers?: Record<string, string> };
  const variants: Record<string, Msg[]> = {
    'payload, no headers                  [baseline]': payloads.map((p, i) => ({
      key: p.elderId,
      value: json.payload[i],
    })),
    'envelope, no headers': envelopes.map((e, i) => ({ key: e.key, value: json.envelope[i] })),
    'envelope + 1 header (event type)': envelopes.map((e, i) => ({
      key: e.key,
      value: json.envelope[i],
      headers: { 'yiyang-event-type': e.type },
    })),
    'envelope + 4 headers (EventPublisher)': envelopes.map((e, i) => ({
      key: e.key,
      value: json.envelope[i],
      headers: envelopeHeaders(e.type),
    })),
  };
  const batches: Record<string, Buffer> = {};
  for (const [name, messages] of Object.entries(variants)) {
    await measure('produce', `kafkajs encode produce request: ${name}`, BATCH, () =>
      ProduceRequest({
        acks: -1,
        timeout: 30_000,
        topicData: [{ topic: topic.name, partitions: [{ partition: 0, firstSequence: 0, messages }] }],
      }).encode(),
    );
    const records = messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: 0 }));
    batches[name] = (await RecordBatch({ records, lastOffsetDelta: records.length - 1 })).buffer;
  }

  // ---- consumer side
  for (const [name, buffer] of Object.entries(batches)) {
    await measure('consume', `kafkajs decode record batch: ${name}`, BATCH, () =>
      RecordBatchDecoder(new Decoder(buffer)),
    );
  }
  const messages = (headers: boolean): KafkaMessage[] =>
    envelopes.map(
      (e, i) =>
        ({
          key: Buffer.from(e.key),
          value: Buffer.from(json.envelope[i]),
          headers: headers
            ? Object.fromEntries(Object.entries(envelopeHeaders(e.type)).map(([k, v]) => [k, Buffer.from(v)]))
            : {},
          offset: String(1000 + i),
          timestamp: String(Date.now()),
          attributes: 0,
        }) as KafkaMessage,
    );
  const envMessages = messages(true);
  const payloadBuffers = json.payload.map((s) => Buffer.from(s));
  let sink = 0;
  await measure('consume', 'JSON.parse(value.toString())          [baseline]', 1, (i) => {
    sink += (JSON.parse(payloadBuffers[i % BATCH].toString()) as OrderPlaced).i;
  });
  await measure('consume', 'JSON.parse(envelope value)', 1, (i) =>
    JSON.parse(String(envMessages[i % BATCH].value)),
  );
  const parsedEnvelopes = envMessages.map((m) => JSON.parse(String(m.value)) as Envelope);
  await measure('consume', 'EnvelopeSchema.safeParse', 1, (i) =>
    EnvelopeSchema.safeParse(parsedEnvelopes[i % BATCH]),
  );
  await measure('consume', 'payload safeParse', 1, (i) =>
    event.payload.safeParse(parsedEnvelopes[i % BATCH].payload),
  );

  const kafka = new Kafka({ clientId: 'micro', brokers: ['127.0.0.1:1'], logLevel: logLevel.NOTHING });
  const registration: HandlerRegistration = {
    event: event as HandlerRegistration['event'],
    group: 'bench',
    name: 'Bench.onOrderPlaced',
    handler: async (payload) => {
      sink += (payload as OrderPlaced).i;
    },
  };
  const consumer = new EventConsumer(kafka, new EventPublisher(kafka), log, {
    groupId: 'micro',
    service: 'bench',
    registrations: [registration],
  });
  const internals = consumer as unknown as {
    parse(topic: string, m: KafkaMessage): unknown;
    handleMessage(topic: string, partition: number, m: KafkaMessage, hb: () => Promise<void>): Promise<void>;
  };
  const heartbeat = async () => undefined;
  await measure('consume', 'EventConsumer.parse (JSON.parse + envelope + payload zod)', 1, (i) =>
    internals.parse(topic.name, envMessages[i % BATCH]),
  );
  await measure('consume', 'EventConsumer.handleMessage (parse + child log + metrics + handler)', 1, (i) =>
    internals.handleMessage(topic.name, 0, envMessages[i % BATCH], heartbeat),
  );
  await measure('consume', '  log.child({ correlationId, eventId, type })', 1, (i) => {
    const e = parsedEnvelopes[i % BATCH];
    return log.child({ correlationId: e.correlationId, eventId: e.eventId, type: e.type });
  });
  await measure('consume', '  metrics: handler histogram timer + consumed counter', 1, () => {
    const end = messagingMetrics.handlerSeconds.startTimer({ topic: topic.name });
    end();
    messagingMetrics.consumed.inc({ topic: topic.name, outcome: 'ok' });
  });
  await measure('consume', '  eachMessage-style handler call (await)', 1, (i) =>
    registration.handler(parsedEnvelopes[i % BATCH].payload, undefined as never),
  );

  console.log('');
  console.log('Per-message CPU cost (µs of process CPU, best of 9 trials; in-process, no broker)');
  for (const r of rows)
    console.log(`${r.side.padEnd(8)} ${r.what.padEnd(70)} ${r.usPerMsg.toFixed(2).padStart(7)}`);
  if (sink === -1) console.log(sink);
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
