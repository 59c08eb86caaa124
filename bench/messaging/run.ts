/**
 * Messaging round-trip benchmark: produce → REAL Kafka broker → consume → handler, two variants in
 * one run, each on its own fresh topic with the same partition count (see README.md):
 *
 *   baseline  bare kafkajs: `kafka.producer()` with default settings sending plain JSON, and a plain
 *             consumer group (`eachMessage`, default autoCommit) that JSON.parses and records latency.
 *   backbone  @yiyang/messaging: EventPublisher publishing envelopes built by newEnvelope, consumed by
 *             EventConsumer with one registered handler that records latency.
 *
 * Throughput = measured messages / (first send → last message handled). Latency = handler time −
 * `sentAt` stamped into the payload right before its batch is built (same process, same clock).
 * Each variant runs BENCH_ROUNDS times (default 2) in A B B A order, every round on a fresh topic
 * and group; the reported figures are the medians over the rounds.
 *
 * From the repo root: `npm run infra:up && npm run bench:messaging`. Env knobs:
 *   BENCH_MESSAGES (50000)  BENCH_BATCH (500)  BENCH_KEYS (1000)  BENCH_PARTITIONS (6)  BENCH_WARMUP (2000)
 *   BENCH_INFLIGHT (1: send calls in flight at once, same for both)  BENCH_ROUNDS (2)  BENCH_TARGET (0.5)
 *   BENCH_DRAIN_TIMEOUT_MS (180000)  BENCH_TIMEOUT_MS (600000, hard stop)  BENCH_OUT (bench/results/messaging.json)
 *   BENCH_BACKBONE_PCC (unset: EventConsumer's default partitionsConsumedConcurrently)  KAFKA_BROKERS
 * A measurement, not a gate: exits 0 whether or not the target is met; 1 only if it could not measure
 * (broker down, a variant timed out). The whole run is bounded by timeouts and always deletes its topics.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import {
  backboneConsumer,
  backbonePublisher,
  composeVariant,
  config,
  intEnv,
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
  type VariantResult,
} from './harness';

const baseline = () =>
  composeVariant({
    name: 'baseline',
    description:
      'bare kafkajs: kafka.producer() defaults, send() of payload JSON; consumer group eachMessage + JSON.parse',
    client: 'plain',
    producer: ({ kafka, topic }) => plainProducer(kafka, topic.name, { value: 'payload' }),
    consumer: ({ kafka, topic, groupId }) => plainConsumer(kafka, topic.name, groupId, 'payload'),
  });

const backbone = () =>
  composeVariant({
    name: 'backbone',
    description:
      'EventPublisher.publish(newEnvelope(...)) (idempotent, acks=all, maxInFlight 1); EventConsumer + one registered handler',
    client: 'backbone',
    viaEnsureTopics: true,
    producer: ({ publisher, event }) => backbonePublisher(publisher(), event),
    consumer: ({ kafka, publisher, event, groupId }) =>
      backboneConsumer(kafka, publisher(), event, groupId, {
        partitionsConsumedConcurrently: process.env['BENCH_BACKBONE_PCC']
          ? intEnv('BENCH_BACKBONE_PCC', 3)
          : undefined,
      }),
  });

runMain(async () => {
  const out = outPath('bench/results/messaging.json');
  progress(
    `messaging round-trip bench ${RUN_ID}: N=${config.messages}, batch=${config.batchSize}, keys=${config.keys}, ` +
      `partitions=${config.partitions}, warm-up=${config.warmup}, in-flight sends=${config.inflight}, brokers=${config.brokers.join(',')}`,
  );

  await preflight();
  const loadBefore = loadavg()[0];
  const rounds: VariantResult[] = [];
  measuring: for (let k = 0; k < config.rounds; k++) {
    for (const make of k % 2 === 0 ? [baseline, backbone] : [backbone, baseline]) {
      const result = await runVariant(make());
      rounds.push(result);
      if (!result.completed) break measuring; // no point in more rounds; report what failed
    }
  }
  const base = summarize(
    'baseline',
    rounds.filter((r) => r.variant === 'baseline'),
  );
  const back = summarize(
    'backbone',
    rounds.filter((r) => r.variant === 'backbone'),
  );
  const results = [base, back];
  const ratio = base.completed && back.completed ? back.msgsPerSec / base.msgsPerSec : null;
  const pass = ratio !== null && ratio >= config.target;

  const report = {
    benchmark: 'messaging-roundtrip',
    runId: RUN_ID,
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    brokers: config.brokers,
    /** 1-minute load average before and after: > ~1.5 on 2 cores means others competed for the CPU. */
    loadavg1m: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0] * 100) / 100 },
    N: config.messages,
    config: {
      messages: config.messages,
      batchSize: config.batchSize,
      keys: config.keys,
      partitions: config.partitions,
      warmup: config.warmup,
      inflightSends: config.inflight,
      rounds: config.rounds,
    },
    /** Medians over the rounds. */
    variants: { baseline: reportOf(base), backbone: reportOf(back) },
    rounds: rounds.map((r) => {
      const { description: _description, ...rest } = reportOf(r);
      return rest;
    }),
    /** backbone msgs/s ÷ baseline msgs/s (medians): the figure the target applies to. */
    ratio: ratio === null ? null : Math.round(ratio * 1000) / 1000,
    /** baseline CPU/msg ÷ backbone CPU/msg: the same comparison, far less sensitive to other load. */
    cpuRatio:
      base.completed && back.completed
        ? Math.round((base.cpuUsPerMsg / back.cpuUsPerMsg) * 1000) / 1000
        : null,
    target: config.target,
    pass,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  console.log('');
  console.log(
    `Messaging round trip (produce → Kafka → consume → handler): N=${config.messages}, batch=${config.batchSize}, ` +
      `${config.partitions} partitions, ${config.keys} keys, ${process.version}, ${cpus().length} CPUs; ` +
      `median of ${config.rounds} round(s); load avg ${report.loadavg1m.before} → ${report.loadavg1m.after}`,
  );
  printTable(results);
  console.log('');
  console.log(
    ratio === null
      ? `ratio backbone/baseline throughput: n/a (a variant failed) — target ≥ ${config.target}: NOT MET`
      : `ratio backbone/baseline throughput: ${ratio.toFixed(3)} — target ≥ ${config.target}: ${pass ? 'MET' : 'NOT MET'}` +
          ` (CPU per message: backbone ${(back.cpuUsPerMsg / base.cpuUsPerMsg).toFixed(2)}× baseline)`,
  );
  console.log(`results: ${out}`);
  return ratio === null ? 1 : 0; // a missed target is a result (0); a failed measurement is not (1)
});
