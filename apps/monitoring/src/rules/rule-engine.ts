import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { isTelemetryReadingsPayload, TelemetryReadings, type PayloadOf, type TelemetryReading } from '@yiyang/contracts';
import { HandleEventBatch, isDuplicateKeyError, type EventBatch } from '@yiyang/messaging';
import type { AnyBulkWriteOperation, Model } from 'mongoose';
import { Counter, Histogram, register } from 'prom-client';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceDirectory, type DeviceInfo } from '../devices/device-directory';
import { RegistryFacts } from '../registry-facts/registry-facts.service';
import {
  applyActivity,
  applyReading,
  checkInactivity,
  checkSilence,
  emptyRing,
  isActivitySensor,
  type DeviceRuleState,
  type Effect,
  type ElderActivityState,
} from './domain/rules';
import { DeviceRuleStateDoc, ElderRuleStateDoc, RuleSnapshotDoc, packSnapshot, snapshotEntries, type SnapshotEntry } from './rule-state.schema';
import { ThresholdsService } from './thresholds.service';

/**
 * A device's rule state in memory. `dirty`: monotonic facts changed since the last snapshot;
 * `partition`: the telemetry partition its readings come from (the snapshot is kept per partition);
 * `lastActivityAt`: its latest activity reading (an elder's activity is the max over their sensors).
 */
type LiveDevice = DeviceRuleState & { dirty: boolean; partition: number; lastActivityAt: number };
type LiveElder = ElderActivityState & { dirty: boolean };

const metric = <T>(name: string, make: () => T): T => (register.getSingleMetric(name) as T) ?? make();
const readingsEvaluated = metric('yiyang_rule_readings_total', () => new Counter({ name: 'yiyang_rule_readings_total', help: 'Readings evaluated by the rule engine, by outcome', labelNames: ['outcome'] }));
const alertEffects = metric('yiyang_rule_effects_total', () => new Counter({ name: 'yiyang_rule_effects_total', help: 'Rule effects, by alert kind and result', labelNames: ['kind', 'result'] }));
const ingestToRule = metric(
  'yiyang_rule_lag_seconds',
  () => new Histogram({ name: 'yiyang_rule_lag_seconds', help: 'From ingestion to rule evaluation', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30] }),
);

/**
 * Rules on the telemetry stream, evaluated in memory a whole partition batch at a time (no
 * database round trip per reading; `@HandleEventBatch`, so offsets advance only after a batch's
 * effects are stored).
 *
 * What is stored, and when (docs/adr/0009-monitoring.md):
 * - Transitions are rare and stored before the batch counts as handled: an alert raised or
 *   cleared, an instant-rule trigger, a reading that builds, alerts or ends a run of out-of-range
 *   vitals, low battery. An alert is written BEFORE the state that says it was raised, so a crash
 *   in between replays into the same deterministic alert id — refused as a duplicate — never into
 *   a lost alert. Alerts are stored as their readings are evaluated; the batch's state
 *   transitions go to the database afterwards in one bulk write.
 * - Monotonic facts (last seen, last activity, battery level) change with nearly every reading.
 *   They are kept in one snapshot document per telemetry partition (`rule_snapshots`), merged
 *   with `max` and rewritten every RULE_CHECKPOINT_MS — a few documents per interval however many
 *   readings arrived, instead of one write per device. A crash loses at most one interval of them,
 *   which cannot matter to rules measured in multiples of heartbeat intervals or hours.
 * - Time-based rules (silent device, inactivity) wait SILENCE_BOOT_GRACE after a start so the
 *   consumer can first catch up with readings delivered while the service was down.
 */
@Injectable()
export class RuleEngine implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(RuleEngine.name);
  private readonly devices = new Map<string, LiveDevice>();
  private readonly elders = new Map<string, LiveElder>();
  /** Partition → when this replica last handled a batch of it (a partition new here is re-read from the database). */
  private readonly partitions = new Map<number, number>();
  /** Partition → version of its snapshot as this replica last read or wrote it (see writeSnapshot). */
  private readonly snapshotVersions = new Map<number, number>();
  private loadedAt = 0;
  private bootedAt = Date.now();
  private checkpointTimer?: NodeJS.Timeout;
  private tickTimer?: NodeJS.Timeout;
  private checkpointing?: Promise<void>;
  private ticking?: Promise<void>;
  private stopped = false;
  private readonly bootGraceMs: number;

  constructor(
    @InjectModel(DeviceRuleStateDoc.name) private readonly deviceStates: Model<DeviceRuleStateDoc>,
    @InjectModel(ElderRuleStateDoc.name) private readonly elderStates: Model<ElderRuleStateDoc>,
    @InjectModel(RuleSnapshotDoc.name) private readonly snapshots: Model<RuleSnapshotDoc>,
    private readonly directory: DeviceDirectory,
    private readonly facts: RegistryFacts,
    private readonly thresholds: ThresholdsService,
    private readonly alerts: AlertsService,
    @Inject(ConfigService) private readonly config: ConfigService,
  ) {
    this.bootGraceMs = Number(config.get('SILENCE_BOOT_GRACE_MS'));
  }

  async onModuleInit(): Promise<void> {
    this.bootedAt = Date.now();
    for (const d of await this.deviceStates.find().lean()) this.devices.set(d._id, fromDoc(d));
    for (const snapshot of await this.snapshots.find().lean()) this.mergeSnapshot(snapshot);
    for (const e of await this.elderStates.find().lean()) this.elders.set(e._id, { lastActivityAt: e.lastActivityAt, inactiveSince: e.inactiveSince, dirty: false });
    this.loadedAt = Date.now();
    this.checkpointTimer = setInterval(() => {
      if (!this.checkpointing) this.checkpointing = this.checkpoint().catch((err) => this.log.error({ err }, 'checkpoint failed; will retry')).finally(() => (this.checkpointing = undefined));
    }, Number(this.config.get('RULE_CHECKPOINT_MS')));
    this.tickTimer = setInterval(() => {
      if (!this.ticking && !this.stopped) this.ticking = this.tick(Date.now()).catch((err) => this.log.error({ err }, 'rule tick failed')).finally(() => (this.ticking = undefined));
    }, Number(this.config.get('RULE_TICK_MS')));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkpointTimer);
    clearInterval(this.tickTimer);
    await this.ticking;
    await this.checkpointing;
    await this.checkpoint(); // what is in memory goes to the database before the process ends
  }

  @HandleEventBatch(TelemetryReadings, {
    group: 'rules',
    maxBatchSize: 5_000,
    // Throughput: big fetches (the topic is small JSON records), every partition of a busy replica in flight.
    consumer: { partitionsConsumedConcurrently: 6, maxBytesPerPartition: 2_097_152, maxBytes: 16_777_216, maxWaitTimeInMs: 250 },
    // Our own topic, validated reading by reading at ingestion: a precompiled structural check
    // instead of the zod walk and copy per record (a fifth of the engine's CPU). Whatever it
    // refuses still meets zod, and garbage is dead-lettered as before (ADR 0009).
    payloadGuard: isTelemetryReadingsPayload,
  })
  async onReadings(batch: EventBatch<PayloadOf<typeof TelemetryReadings>>): Promise<void> {
    const now = Date.now();
    await this.adoptPartition(batch);
    const durable = new Map<string, LiveDevice>();
    const inactivityElders = new Set<string>();
    let unbound = 0;
    let duplicates = 0;
    let evaluated = 0;
    for (const { payload, envelope } of batch.events) {
      ingestToRule.observe((now - payload.receivedAt) / 1000);
      const device = this.directory.get(payload.deviceId);
      if (!device || !device.active) {
        unbound += payload.readings.length;
        continue;
      }
      const state = this.stateOf(device, batch.partition);
      const t = this.thresholds.of(device.elderId);
      const readings = payload.readings.length > 1 ? [...payload.readings].sort((a, b) => a.at - b.at) : payload.readings;
      let stored = false;
      for (const r of readings) {
        const outcome = applyReading(state, device.kind, t, r);
        if (outcome.duplicate) {
          duplicates++;
          continue;
        }
        evaluated++;
        // Alerts at once, in reading order, before the rest of the batch is evaluated (rare; an SOS
        // must not wait for thousands of other readings), and before the state that records them.
        for (const effect of outcome.effects) await this.apply(device, effect, readings, envelope.correlationId);
        stored ||= outcome.durable;
        if (outcome.activityAt !== null && device.elderId) {
          if (outcome.activityAt > state.lastActivityAt) state.lastActivityAt = outcome.activityAt;
          const cleared = this.activity(device.elderId, outcome.activityAt);
          if (cleared) {
            await this.apply(device, cleared, readings, envelope.correlationId);
            inactivityElders.add(device.elderId);
          }
        }
      }
      state.dirty = true;
      if (stored) durable.set(device.deviceId, state);
    }
    if (unbound) readingsEvaluated.inc({ outcome: 'unbound' }, unbound);
    if (duplicates) readingsEvaluated.inc({ outcome: 'duplicate' }, duplicates);
    if (evaluated) readingsEvaluated.inc({ outcome: 'evaluated' }, evaluated);

    // The alerts are stored (above); now the state that records them (see the class comment).
    await this.saveDevices(durable);
    for (const elderId of inactivityElders) await this.saveElder(elderId);
  }

  /** A device's live state (for GET /devices/:id and tests). */
  live(deviceId: string): { lastSeenAt: number; battery: number | null } | undefined {
    const s = this.devices.get(deviceId);
    return s ? { lastSeenAt: s.lastSeenAt, battery: s.battery } : undefined;
  }

  /** Time-based rules over every bound device and every elder living alone with activity sensors. */
  async tick(now: number): Promise<void> {
    if (now - this.bootedAt < this.bootGraceMs) return;
    // Another replica may hold a device's partition: before firing, trust the stored facts if newer.
    // Read at most once per tick, and only when something is about to fire.
    let stored: Map<string, SnapshotEntry> | undefined;
    const storedFacts = async () => (stored ??= await this.readSnapshots());
    const sensorsByElder = new Map<string, DeviceInfo[]>();
    for (const device of this.directory.all()) {
      if (!device.active) continue;
      if (device.elderId && isActivitySensor(device.kind)) {
        const list = sensorsByElder.get(device.elderId) ?? [];
        list.push(device);
        sensorsByElder.set(device.elderId, list);
      }
      let state = this.devices.get(device.deviceId);
      if (!state) {
        state = newLive(device.boundSince ?? now, -1);
        this.devices.set(device.deviceId, state);
      }
      const probe = { ...state, silentSince: state.silentSince };
      if (!checkSilence(probe, device.heartbeatIntervalSec, now)) continue;
      const doc = await this.deviceStates.findById(device.deviceId, { lastSeenAt: 1, silentSince: 1 }).lean();
      const fact = (await storedFacts()).get(device.deviceId);
      const seen = Math.max(doc?.lastSeenAt ?? 0, fact?.[1] ?? 0);
      if (seen > state.lastSeenAt) state.lastSeenAt = seen;
      if (doc && doc.silentSince !== null && doc.silentSince >= state.lastSeenAt) state.silentSince = doc.silentSince;
      const effect = checkSilence(state, device.heartbeatIntervalSec, now);
      if (!effect) continue;
      await this.apply(device, effect, [], undefined);
      await this.saveDevices(new Map([[device.deviceId, state]]));
    }

    for (const [elderId, sensors] of sensorsByElder) {
      if (!this.facts.livesAlone(elderId)) continue;
      let state = this.elders.get(elderId);
      if (!state) {
        const since = Math.max(...sensors.map((s) => s.boundSince ?? now));
        state = { lastActivityAt: since, inactiveSince: null, dirty: true };
        this.elders.set(elderId, state);
      }
      // The elder's activity is the latest of their sensors' (kept per device, in the snapshot).
      for (const s of sensors) {
        const at = this.devices.get(s.deviceId)?.lastActivityAt ?? 0;
        if (at > state.lastActivityAt) state.lastActivityAt = at;
      }
      const t = this.thresholds.of(elderId);
      if (!checkInactivity({ ...state }, t, now)) continue;
      const doc = await this.elderStates.findById(elderId).lean();
      const facts = await storedFacts();
      const seen = Math.max(doc?.lastActivityAt ?? 0, ...sensors.map((s) => facts.get(s.deviceId)?.[4] ?? 0));
      if (seen > state.lastActivityAt) state.lastActivityAt = seen;
      if (doc && doc.inactiveSince !== null && doc.inactiveSince >= state.lastActivityAt) state.inactiveSince = doc.inactiveSince;
      const effect = checkInactivity(state, t, now);
      if (!effect) continue;
      await this.apply(sensors[0], effect, [], undefined);
      await this.saveElder(elderId);
    }
  }

  /**
   * Writes the monotonic facts of every partition with changes since the last checkpoint: one
   * document per partition, merged with what is stored (max per fact, so a replica that held the
   * partition before cannot move a fact back) under an optimistic version guard.
   */
  async checkpoint(): Promise<void> {
    const byPartition = new Map<number, [string, LiveDevice][]>();
    for (const [id, s] of this.devices) {
      if (s.partition < 0) continue; // never read from the stream here: nothing of ours to store
      const list = byPartition.get(s.partition) ?? [];
      list.push([id, s]);
      byPartition.set(s.partition, list);
    }
    for (const [partition, list] of byPartition) {
      if (!list.some(([, s]) => s.dirty)) continue;
      for (const [, s] of list) s.dirty = false;
      try {
        await this.writeSnapshot(partition, list);
      } catch (error) {
        for (const [, s] of list) s.dirty = true; // the next checkpoint writes it again (idempotent)
        throw error;
      }
    }
  }

  /**
   * One partition's snapshot. When the stored version is the one this replica last read or wrote,
   * everything stored is already merged into memory (boot and adoptPartition merge what they read),
   * so the memory alone is written under that version — no read of the document, no merge. A
   * version we do not know (never read, or another replica wrote since) takes the read-merge-write
   * path. Through the driver's collection: mongoose cast every element of the five columns
   * (visible in the engine's CPU profile), and the document is built here already in its stored form.
   */
  private async writeSnapshot(partition: number, list: [string, LiveDevice][]): Promise<void> {
    const _id = `p${partition}`;
    const collection = this.snapshots.collection;
    const known = this.snapshotVersions.get(partition);
    if (known !== undefined) {
      const doc = { ...packSnapshot(list.map(([id, s]): SnapshotEntry => [id, s.lastSeenAt, s.battery, s.batteryAt, s.lastActivityAt])), version: known + 1, updatedAt: new Date() };
      const result = await collection.replaceOne({ _id, version: known } as never, doc as never);
      if (result.modifiedCount > 0) {
        this.snapshotVersions.set(partition, known + 1);
        return;
      }
      this.snapshotVersions.delete(partition); // someone else wrote it: merge with what is stored
    }
    for (let attempt = 0; ; attempt++) {
      const current = (await collection.findOne({ _id } as never)) as RuleSnapshotDoc | null;
      const merged = new Map<string, SnapshotEntry>((current ? snapshotEntries(current) : []).map((e) => [e[0], e]));
      for (const [id, s] of list) {
        const old = merged.get(id);
        const newer = !old || s.batteryAt >= old[3];
        merged.set(id, [
          id,
          Math.max(s.lastSeenAt, old?.[1] ?? 0),
          newer ? s.battery : old[2],
          newer ? s.batteryAt : old[3],
          Math.max(s.lastActivityAt, old?.[4] ?? 0),
        ]);
      }
      const version = current?.version ?? 0;
      const doc = { ...packSnapshot(merged.values()), version: version + 1, updatedAt: new Date() };
      try {
        const result = await collection.replaceOne({ _id, version } as never, doc as never, { upsert: true });
        if (result.modifiedCount + result.upsertedCount > 0) {
          // What was stored is now in the document but not necessarily in memory: merge it in, so
          // the next checkpoint can write from memory alone.
          if (current) this.mergeSnapshot(current);
          this.snapshotVersions.set(partition, version + 1);
          return;
        }
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error; // another replica wrote it first: merge again
      }
      if (attempt >= 3) throw new Error(`snapshot ${_id} kept changing under us`);
    }
  }

  private async readSnapshots(): Promise<Map<string, SnapshotEntry>> {
    const facts = new Map<string, SnapshotEntry>();
    for (const snapshot of await this.snapshots.find().lean()) for (const e of snapshotEntries(snapshot)) facts.set(e[0], e);
    return facts;
  }

  private mergeSnapshot(snapshot: RuleSnapshotDoc): void {
    const partition = Number(snapshot._id.slice(1));
    // Remember the version merged, unless memory already holds a later one of ours.
    if ((this.snapshotVersions.get(partition) ?? -1) < snapshot.version) this.snapshotVersions.set(partition, snapshot.version);
    for (const [id, lastSeenAt, battery, batteryAt, lastActivityAt] of snapshotEntries(snapshot)) {
      let state = this.devices.get(id);
      if (!state) {
        state = newLive(lastSeenAt, partition);
        state.dirty = false;
        this.devices.set(id, state);
      }
      state.partition = partition;
      if (lastSeenAt > state.lastSeenAt) state.lastSeenAt = lastSeenAt;
      if (batteryAt > state.batteryAt) {
        state.battery = battery;
        state.batteryAt = batteryAt;
      }
      if (lastActivityAt > state.lastActivityAt) state.lastActivityAt = lastActivityAt;
    }
  }

  /**
   * A partition this replica had not been handling (a rebalance moved it here, or it is the first
   * batch long after boot): its stored state is fresher than what was loaded at boot. Re-read its
   * snapshot and the transition state of the batch's devices — once per partition, not per device.
   */
  private async adoptPartition(batch: EventBatch<PayloadOf<typeof TelemetryReadings>>): Promise<void> {
    const now = Date.now();
    const last = this.partitions.get(batch.partition);
    this.partitions.set(batch.partition, now);
    if (now - this.loadedAt < 60_000 || (last !== undefined && now - last < 60_000)) return;
    const snapshot = await this.snapshots.findById(`p${batch.partition}`).lean();
    if (snapshot) this.mergeSnapshot(snapshot);
    const ids = [...new Set(batch.events.map((e) => e.payload.deviceId))];
    for (let i = 0; i < ids.length; i += 500) {
      for (const d of await this.deviceStates.find({ _id: { $in: ids.slice(i, i + 500) } }).lean()) {
        const cached = this.devices.get(d._id);
        const state = fromDoc(d);
        if (cached) {
          state.lastSeenAt = Math.max(state.lastSeenAt, cached.lastSeenAt);
          state.lastActivityAt = cached.lastActivityAt;
          if (cached.batteryAt > state.batteryAt) {
            state.battery = cached.battery;
            state.batteryAt = cached.batteryAt;
          }
        }
        state.partition = batch.partition;
        this.devices.set(d._id, state);
      }
    }
  }

  private activity(elderId: string, at: number): Effect | null {
    let state = this.elders.get(elderId);
    if (!state) {
      state = { lastActivityAt: at, inactiveSince: null, dirty: true };
      this.elders.set(elderId, state);
      return null;
    }
    state.dirty = true;
    return applyActivity(state, at);
  }

  private async apply(device: DeviceInfo, effect: Effect, readings: readonly TelemetryReading[], correlationId: string | undefined): Promise<void> {
    if (effect.type === 'raise') {
      const location = readings.find((r) => r.loc)?.loc;
      const result = await this.alerts.raise({ device, kind: effect.kind, severity: effect.severity, episode: effect.episode, evidence: effect.evidence, reason: effect.reason, location, correlationId });
      alertEffects.inc({ kind: effect.kind, result });
      return;
    }
    const cleared =
      effect.kind === 'INACTIVITY' && device.elderId
        ? await this.alerts.clearForElder(device.elderId, 'INACTIVITY', effect.reason, correlationId)
        : await this.alerts.clear(device.deviceId, effect.kind, effect.reason, correlationId);
    alertEffects.inc({ kind: effect.kind, result: cleared ? 'cleared' : 'nothing-open' });
  }

  /** A device's state; a device never seen here starts empty (no read per new device, see adoptPartition). */
  private stateOf(device: DeviceInfo, partition: number): LiveDevice {
    let state = this.devices.get(device.deviceId);
    if (!state) {
      state = newLive(device.boundSince ?? Date.now(), partition);
      this.devices.set(device.deviceId, state);
    }
    state.partition = partition;
    return state;
  }

  /** The transition state of the given devices, in one bulk write. */
  private async saveDevices(states: Map<string, LiveDevice>): Promise<void> {
    if (states.size === 0) return;
    const updatedAt = new Date();
    const ops: AnyBulkWriteOperation<DeviceRuleStateDoc>[] = [...states].map(([deviceId, s]) => ({
      updateOne: {
        filter: { _id: deviceId },
        update: {
          $max: { lastSeenAt: s.lastSeenAt },
          $set: {
            battery: s.battery,
            batteryAt: s.batteryAt,
            lowBatterySince: s.lowBatterySince,
            vitals: s.vitals,
            vitalsEpisode: s.vitalsEpisode,
            lastTrigger: s.lastTrigger,
            silentSince: s.silentSince,
            updatedAt,
          },
        },
        upsert: true,
      },
    }));
    // Through the driver: the operators are explicit and the values already in their stored form.
    for (let i = 0; i < ops.length; i += 1_000) await this.deviceStates.collection.bulkWrite(ops.slice(i, i + 1_000) as never, { ordered: false });
  }

  private async saveElder(elderId: string): Promise<void> {
    const s = this.elders.get(elderId);
    if (!s) return;
    s.dirty = false;
    await this.elderStates.updateOne(
      { _id: elderId },
      { $max: { lastActivityAt: s.lastActivityAt }, $set: { inactiveSince: s.inactiveSince, updatedAt: new Date() } },
      { upsert: true },
    );
  }
}

function newLive(seenAt: number, partition: number): LiveDevice {
  // Spelled out rather than spread from emptyState: one object shape for every live device.
  return {
    lastSeenAt: seenAt,
    battery: null,
    batteryAt: 0,
    lowBatterySince: null,
    vitals: [],
    vitalsEpisode: null,
    lastTrigger: {},
    silentSince: null,
    recent: emptyRing(),
    dirty: true,
    partition,
    lastActivityAt: 0,
  };
}

function fromDoc(d: DeviceRuleStateDoc): LiveDevice {
  return {
    lastSeenAt: d.lastSeenAt,
    battery: d.battery,
    batteryAt: d.batteryAt ?? 0,
    lowBatterySince: d.lowBatterySince ?? null,
    vitals: d.vitals ?? [],
    vitalsEpisode: d.vitalsEpisode ?? null,
    lastTrigger: d.lastTrigger ?? {},
    silentSince: d.silentSince ?? null,
    recent: emptyRing(),
    dirty: false,
    partition: -1,
    lastActivityAt: 0,
  };
}
