/**
 * Where does the backbone's round-trip cost go? Runs hybrid pipelines, each on its own fresh topic,
 * that add one backbone ingredient at a time to the bare-kafkajs baseline, plus prototypes of
 * candidate fixes applied to EventConsumer/EventPublisher at runtime (nothing in libs/ is changed).
 *
 *   node -r @swc-node/register bench/messaging/ablation.ts            # all steps
 *   BENCH_STEPS=baseline,backbone,... node -r @swc-node/register bench/messaging/ablation.ts
 *
 * Same env knobs as run.ts. Writes bench/results/messaging-ablation.json (BENCH_OUT overrides).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { z } from 'zod';
import { type Envelope } from '@yiyang/contracts';
import {
  EventConsumer,
  EventPublisher,
  envelopeHeaders,
  messagingMetrics,
  type OutgoingRecord,
} from '@yiyang/messaging';
import {
  backboneConsumer,
  backbonePublisher,
  composeVariant,
  config,
  outPath,
  plainConsumer,
  plainProducer,
  preflight,
  printTable,
  progress,
  reportOf,
  runMain,
  runVariant,
  RUN_ID,
  summarize,
  type ComposeOptions,
  type ProducerSide,
  type VariantResult,
} from './harness';
import type { EventDefinition } from '@yiyang/contracts';
import type { OrderPlaced } from './harness';

// ---------------------------------------------------------------------------------------------------
// Prototype fixes, applied to instances at runtime

/**
 * EventConsumer.parse with a cheaper envelope check: the same fields and types, but without zod's
 * uuid and ISO-datetime regexes and the object re-construction (keeps the payload zod parse).
 */
const LeanEnvelopeSchema = z.object({
  eventId: z.string().min(1),
  type: z.string().min(1),
  version: z.number(),
  occurredAt: z.string().min(1),
  producer: z.string().min(1),
  key: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  payload: z.unknown(),
});

type ParseFn = (topic: string, message: KafkaMessage) => unknown;
interface ConsumerInternals {
  parse: ParseFn;
  byTopic: Map<string, Map<string, { event: EventDefinition<unknown> }[]>>;
  log: { child(bindings: object): unknown };
}

function leanEnvelopeParse(consumer: EventConsumer): void {
  const internals = consumer as unknown as ConsumerInternals;
  internals.parse = function (topic: string, message: KafkaMessage) {
    let json: unknown;
    try {
      json = JSON.parse(message.value?.toString() ?? '');
    } catch {
      return { ok: false, error: 'value is not JSON' };
    }
    const envelope = LeanEnvelopeSchema.safeParse(json);
    if (!envelope.success) return { ok: false, error: envelope.error.issues[0].message };
    const registrations = internals.byTopic.get(topic)?.get(envelope.data.type);
    if (!registrations) return { ok: 'skip' };
    const payload = registrations[0].event.payload.safeParse(envelope.data.payload);
    if (!payload.success) return { ok: false, error: payload.error.issues[0].message };
    return { ok: true, envelope: envelope.data as Envelope, registrations, payload: payload.data };
  };
}

/** Skip all validation on the consumer (JSON.parse only) — the floor that validation can reach. */
function noValidation(consumer: EventConsumer): void {
  const internals = consumer as unknown as ConsumerInternals;
  internals.parse = function (topic: string, message: KafkaMessage) {
    const envelope = JSON.parse(String(message.value)) as Envelope;
    const registrations = internals.byTopic.get(topic)?.get(envelope.type);
    if (!registrations) return { ok: 'skip' };
    return { ok: true, envelope, registrations, payload: envelope.payload };
  };
}

/** log.child(...) per message replaced by the parent logger (what a lazy child would cost). */
function noChildLogger(consumer: EventConsumer): void {
  const internals = consumer as unknown as ConsumerInternals;
  const parent = internals.log;
  internals.log = Object.create(parent, { child: { value: () => parent } }) as typeof parent;
}

/** Metrics as no-ops for the duration of the step (handler histogram + consumed counter). */
function withoutConsumerMetrics(): () => void {
  const m = messagingMetrics as unknown as Record<string, { inc: unknown; startTimer: unknown }>;
  const saved = { inc: m['consumed'].inc, startTimer: m['handlerSeconds'].startTimer };
  m['consumed'].inc = () => undefined;
  m['handlerSeconds'].startTimer = () => () => 0;
  return () => {
    m['consumed'].inc = saved.inc;
    m['handlerSeconds'].startTimer = saved.startTimer;
  };
}

/** EventPublisher.publish without the four Kafka headers (the JSON envelope is unchanged). */
function publisherWithoutHeaders(
  publisher: EventPublisher,
  event: EventDefinition<OrderPlaced>,
): ProducerSide {
  const inner = backbonePublisher(publisher, event);
  (publisher as unknown as { publish: EventPublisher['publish'] }).publish = async (envelopes, topicOf) => {
    await publisher.send(
      envelopes.map((e): OutgoingRecord => ({ topic: topicOf(e), key: e.key, value: JSON.stringify(e) })),
    );
  };
  return inner;
}

/** Only the event-type header (one instead of four). */
function publisherOneHeader(publisher: EventPublisher, event: EventDefinition<OrderPlaced>): ProducerSide {
  const inner = backbonePublisher(publisher, event);
  (publisher as unknown as { publish: EventPublisher['publish'] }).publish = async (envelopes, topicOf) => {
    await publisher.send(
      envelopes.map((e): OutgoingRecord => ({
        topic: topicOf(e),
        key: e.key,
        value: JSON.stringify(e),
        headers: { 'yiyang-event-type': envelopeHeaders(e.type)['yiyang-event-type'] },
      })),
    );
  };
  return inner;
}

// ---------------------------------------------------------------------------------------------------
// Steps

interface Step extends ComposeOptions {
  /** Runs around the step (e.g. to disable metrics); returns an undo. */
  around?: () => () => void;
}

const steps: Step[] = [
  {
    name: 'baseline',
    description: 'bare kafkajs producer (defaults) + eachMessage consumer, payload JSON',
    producer: ({ kafka, topic }) => plainProducer(kafka, topic.name, { value: 'payload' }),
    consumer: ({ kafka, topic, groupId }) => plainConsumer(kafka, topic.name, groupId, 'payload'),
  },
  {
    name: 'plain-idempotent',
    description: 'baseline with the backbone producer settings: idempotent, maxInFlightRequests 1',
    producer: ({ kafka, topic }) =>
      plainProducer(kafka, topic.name, {
        value: 'payload',
        producer: { idempotent: true, maxInFlightRequests: 1 },
      }),
    consumer: ({ kafka, topic, groupId }) => plainConsumer(kafka, topic.name, groupId, 'payload'),
  },
  {
    name: 'plain-envelope',
    description: 'baseline sending a hand-built envelope JSON (bigger value), no headers',
    producer: ({ kafka, topic }) => plainProducer(kafka, topic.name, { value: 'envelope' }),
    consumer: ({ kafka, topic, groupId }) => plainConsumer(kafka, topic.name, groupId, 'envelope'),
  },
  {
    name: 'plain-envelope-headers',
    description: 'plain-envelope + the four envelope headers',
    producer: ({ kafka, topic }) => plainProducer(kafka, topic.name, { value: 'envelope', headers: true }),
    consumer: ({ kafka, topic, groupId }) => plainConsumer(kafka, topic.name, groupId, 'envelope'),
  },
  {
    name: 'publisher+plain-consumer',
    description: 'EventPublisher + newEnvelope, consumed by the bare eachMessage consumer',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, topic, groupId }) => plainConsumer(kafka, topic.name, groupId, 'envelope'),
  },
  {
    name: 'plain-producer+event-consumer',
    description: 'bare producer of envelope JSON + headers, consumed by EventConsumer',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ kafka, topic }) => plainProducer(kafka, topic.name, { value: 'envelope', headers: true }),
    consumer: ({ kafka, publisher, event, groupId }) => backboneConsumer(kafka, publisher(), event, groupId),
  },
  {
    name: 'backbone',
    description: 'EventPublisher + EventConsumer as shipped',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) => backboneConsumer(kafka, publisher(), event, groupId),
  },
  {
    name: 'backbone-no-headers',
    description: 'backbone, publisher sends no Kafka headers',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => publisherWithoutHeaders(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) => backboneConsumer(kafka, publisher(), event, groupId),
  },
  {
    name: 'backbone-one-header',
    description: 'backbone, publisher sends only yiyang-event-type',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => publisherOneHeader(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) => backboneConsumer(kafka, publisher(), event, groupId),
  },
  {
    name: 'backbone-lean-envelope',
    description: 'backbone, consumer envelope check without uuid/datetime regexes',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) =>
      backboneConsumer(kafka, publisher(), event, groupId, { tweak: leanEnvelopeParse }),
  },
  {
    name: 'backbone-no-validation',
    description: 'backbone, consumer does JSON.parse only (no zod at all) — floor, not a proposal',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) =>
      backboneConsumer(kafka, publisher(), event, groupId, { tweak: noValidation }),
  },
  {
    name: 'backbone-no-child-log',
    description: 'backbone, no per-message log.child()',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) =>
      backboneConsumer(kafka, publisher(), event, groupId, { tweak: noChildLogger }),
  },
  {
    name: 'backbone-no-metrics',
    description: 'backbone, consumer metrics (counter + histogram timer) as no-ops',
    client: 'backbone',
    viaEnsureTopics: true,
    around: withoutConsumerMetrics,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) => backboneConsumer(kafka, publisher(), event, groupId),
  },
  {
    name: 'backbone-pcc1',
    description: 'backbone, partitionsConsumedConcurrently 1 (the kafkajs default the baseline uses)',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) =>
      backboneConsumer(kafka, publisher(), event, groupId, { partitionsConsumedConcurrently: 1 }),
  },
  {
    name: 'backbone-fixed',
    description:
      'backbone with the proposed lib fixes: no per-message Kafka headers, lazy per-message child logger',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => publisherWithoutHeaders(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) =>
      backboneConsumer(kafka, publisher(), event, groupId, { tweak: noChildLogger }),
  },
  {
    name: 'backbone-fixed-1header',
    description: 'backbone-fixed but keeping the yiyang-event-type header',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => publisherOneHeader(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) =>
      backboneConsumer(kafka, publisher(), event, groupId, { tweak: noChildLogger }),
  },
];

runMain(async () => {
  const wanted = process.env['BENCH_STEPS']
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen = wanted ? steps.filter((s) => wanted.includes(s.name)) : steps;
  if (wanted && chosen.length !== wanted.length) {
    throw new Error(`unknown step(s): ${wanted.filter((w) => !steps.some((s) => s.name === w)).join(', ')}`);
  }
  await preflight();
  progress(
    `messaging ablation ${RUN_ID}: ${chosen.length} steps × ${config.rounds} rounds, N=${config.messages}, batch=${config.batchSize}`,
  );
  const all: VariantResult[] = [];
  for (let k = 0; k < config.rounds; k++) {
    // Forward, then backward, and so on: drift over the run hits every step alike.
    for (const step of k % 2 === 0 ? chosen : [...chosen].reverse()) {
      const undo = step.around?.();
      try {
        all.push(await runVariant(composeVariant(step)));
      } finally {
        undo?.();
      }
    }
  }
  const results = chosen.map((step) =>
    summarize(
      step.name,
      all.filter((r) => r.variant === step.name),
    ),
  );
  const base = results.find((r) => r.variant === 'baseline');
  console.log('');
  console.log(
    `Messaging ablation: N=${config.messages}, batch=${config.batchSize}, ${config.partitions} partitions, ${process.version}; ` +
      `median of ${config.rounds} round(s)`,
  );
  printTable(results, base);
  const out = outPath('bench/results/messaging-ablation.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        benchmark: 'messaging-ablation',
        runId: RUN_ID,
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        N: config.messages,
        config: {
          batchSize: config.batchSize,
          keys: config.keys,
          partitions: config.partitions,
          warmup: config.warmup,
          inflightSends: config.inflight,
          rounds: config.rounds,
        },
        /** Medians over the rounds; vsBaseline is the throughput ratio to the baseline step. */
        steps: results.map((r) => ({
          ...reportOf(r),
          vsBaseline: base ? Math.round((r.msgsPerSec / base.msgsPerSec) * 1000) / 1000 : null,
        })),
        rounds: all.map(reportOf),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${out}`);
  return results.every((r) => r.completed) ? 0 : 1;
});
