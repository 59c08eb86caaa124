import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { TelemetryReadings, type PayloadOf, type TelemetryReading } from '@yiyang/contracts';
import { HandleEvent, type EventContext } from '@yiyang/messaging';
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
  emptyState,
  isActivitySensor,
  type DeviceRuleState,
  type Effect,
  type ElderActivityState,
} from './domain/rules';
import { DeviceRuleStateDoc, ElderRuleStateDoc } from './rule-state.schema';
import { ThresholdsService } from './thresholds.service';

type LiveDevice = DeviceRuleState & { dirty: boolean; touched: boolean };
type LiveElder = ElderActivityState & { dirty: boolean };

const metric = <T>(name: string, make: () => T): T => (register.getSingleMetric(name) as T) ?? make();
const readingsEvaluated = metric('yiyang_rule_readings_total', () => new Counter({ name: 'yiyang_rule_readings_total', help: 'Readings evaluated by the rule engine, by outcome', labelNames: ['outcome'] }));
const alertEffects = metric('yiyang_rule_effects_total', () => new Counter({ name: 'yiyang_rule_effects_total', help: 'Rule effects, by alert kind and result', labelNames: ['kind', 'result'] }));
const ingestToRule = metric(
  'yiyang_rule_lag_seconds',
  () => new Histogram({ name: 'yiyang_rule_lag_seconds', help: 'From ingestion to rule evaluation', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30] }),
);

/**
 * Rules on the telemetry stream, evaluated in memory (no database round trip per reading).
 *
 * What is stored, and when (docs/adr/0009-monitoring.md):
 * - Transitions are rare and stored before the reading counts as handled: an alert raised or
 *   cleared, an instant-rule trigger, any change while vitals are out of range, low battery. An
 *   alert is written BEFORE the state that says it was raised, so a crash in between replays into
 *   the same deterministic alert id — refused as a duplicate — never into a lost alert.
 * - Monotonic facts (last seen, last activity, battery level) change with nearly every reading and
 *   are checkpointed in batches every RULE_CHECKPOINT_MS with `$max`. A crash loses at most that
 *   much of them, which cannot matter to rules measured in multiples of heartbeat intervals or hours.
 * - Time-based rules (silent device, inactivity) wait SILENCE_BOOT_GRACE after a start so the
 *   consumer can first catch up with readings delivered while the service was down.
 */
@Injectable()
export class RuleEngine implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger(RuleEngine.name);
  private readonly devices = new Map<string, LiveDevice>();
  private readonly elders = new Map<string, LiveElder>();
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

  @HandleEvent(TelemetryReadings, { group: 'rules' })
  async onReadings(payload: PayloadOf<typeof TelemetryReadings>, ctx: EventContext): Promise<void> {
    ingestToRule.observe((Date.now() - payload.receivedAt) / 1000);
    const device = this.directory.get(payload.deviceId);
    if (!device || !device.active) {
      readingsEvaluated.inc({ outcome: 'unbound' }, payload.readings.length);
      return;
    }
    const state = await this.stateOf(device);
    state.touched = true;
    const t = this.thresholds.of(device.elderId);
    const effects: Effect[] = [];
    let durable = false;
    let duplicates = 0;
    const readings = payload.readings.length > 1 ? [...payload.readings].sort((a, b) => a.at - b.at) : payload.readings;
    for (const r of readings) {
      const outcome = applyReading(state, device.kind, t, r);
      if (outcome.duplicate) {
        duplicates++;
        continue;
      }
      effects.push(...outcome.effects);
      durable ||= outcome.durable;
      if (outcome.activityAt !== null && device.elderId) {
        const cleared = this.activity(device.elderId, outcome.activityAt);
        if (cleared) effects.push(cleared);
      }
    }
    if (duplicates) readingsEvaluated.inc({ outcome: 'duplicate' }, duplicates);
    readingsEvaluated.inc({ outcome: 'evaluated' }, readings.length - duplicates);

    // Alerts first, then the state that records them (see the class comment).
    for (const effect of effects) await this.apply(device, effect, readings, ctx.envelope.correlationId);
    if (durable) await this.saveDevice(device.deviceId, state);
    else state.dirty = true;
    if (device.elderId && effects.some((e) => e.kind === 'INACTIVITY')) await this.saveElder(device.elderId);
  }

  /** A device's live state (for GET /devices/:id and tests). */
  live(deviceId: string): { lastSeenAt: number; battery: number | null } | undefined {
    const s = this.devices.get(deviceId);
    return s ? { lastSeenAt: s.lastSeenAt, battery: s.battery } : undefined;
  }

  /** Time-based rules over every bound device and every elder living alone with activity sensors. */
  async tick(now: number): Promise<void> {
    if (now - this.bootedAt < this.bootGraceMs) return;
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
        state = { ...emptyState(device.boundSince ?? now), dirty: true, touched: false };
        this.devices.set(device.deviceId, state);
      }
      const probe = { ...state, silentSince: state.silentSince };
      if (!checkSilence(probe, device.heartbeatIntervalSec, now)) continue;
      // Another replica may own this device's partition: trust the stored checkpoint if it is newer.
      const stored = await this.deviceStates.findById(device.deviceId, { lastSeenAt: 1, silentSince: 1 }).lean();
      if (stored && stored.lastSeenAt > state.lastSeenAt) state.lastSeenAt = stored.lastSeenAt;
      if (stored && stored.silentSince !== null && stored.silentSince >= state.lastSeenAt) state.silentSince = stored.silentSince;
      const effect = checkSilence(state, device.heartbeatIntervalSec, now);
      if (!effect) continue;
      await this.apply(device, effect, [], undefined);
      await this.saveDevice(device.deviceId, state);
    }

    for (const [elderId, sensors] of sensorsByElder) {
      if (!this.facts.livesAlone(elderId)) continue;
      let state = this.elders.get(elderId);
      if (!state) {
        const since = Math.max(...sensors.map((s) => s.boundSince ?? now));
        state = { lastActivityAt: since, inactiveSince: null, dirty: true };
        this.elders.set(elderId, state);
      }
      const t = this.thresholds.of(elderId);
      if (!checkInactivity({ ...state }, t, now)) continue;
      const stored = await this.elderStates.findById(elderId).lean();
      if (stored && stored.lastActivityAt > state.lastActivityAt) state.lastActivityAt = stored.lastActivityAt;
      if (stored && stored.inactiveSince !== null && stored.inactiveSince >= state.lastActivityAt) state.inactiveSince = stored.inactiveSince;
      const effect = checkInactivity(state, t, now);
      if (!effect) continue;
      await this.apply(sensors[0], effect, [], undefined);
      await this.saveElder(elderId);
    }
  }

  /** Writes what changed in memory since the last checkpoint, in two bulk writes. */
  async checkpoint(): Promise<void> {
    const now = new Date();
    const deviceOps: AnyBulkWriteOperation<DeviceRuleStateDoc>[] = [];
    for (const [id, s] of this.devices) {
      if (!s.dirty) continue;
      s.dirty = false;
      deviceOps.push({
        updateOne: {
          filter: { _id: id },
          update: { $max: { lastSeenAt: s.lastSeenAt }, $set: { battery: s.battery, batteryAt: s.batteryAt, updatedAt: now } },
          upsert: true,
        },
      });
    }
    const elderOps: AnyBulkWriteOperation<ElderRuleStateDoc>[] = [];
    for (const [id, s] of this.elders) {
      if (!s.dirty) continue;
      s.dirty = false;
      elderOps.push({ updateOne: { filter: { _id: id }, update: { $max: { lastActivityAt: s.lastActivityAt }, $set: { updatedAt: now } }, upsert: true } });
    }
    try {
      for (let i = 0; i < deviceOps.length; i += 1000) await this.deviceStates.bulkWrite(deviceOps.slice(i, i + 1000), { ordered: false });
      for (let i = 0; i < elderOps.length; i += 1000) await this.elderStates.bulkWrite(elderOps.slice(i, i + 1000), { ordered: false });
    } catch (error) {
      // Mark everything dirty again: the next checkpoint writes it (all updates are idempotent).
      for (const op of deviceOps) {
        const s = this.devices.get(String((op as { updateOne: { filter: { _id: string } } }).updateOne.filter._id));
        if (s) s.dirty = true;
      }
      for (const op of elderOps) {
        const s = this.elders.get(String((op as { updateOne: { filter: { _id: string } } }).updateOne.filter._id));
        if (s) s.dirty = true;
      }
      throw error;
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

  private async stateOf(device: DeviceInfo): Promise<LiveDevice> {
    const cached = this.devices.get(device.deviceId);
    const fresh = Date.now() - this.loadedAt < 60_000;
    // A device first seen here long after boot probably moved from another replica (rebalance):
    // its stored state is fresher than what this replica loaded at boot. Shortly after boot, what
    // was loaded is current, and a device with no state then has none (no read per new device).
    if (cached && (cached.touched || fresh)) return cached;
    if (!cached && fresh) {
      const state: LiveDevice = { ...emptyState(device.boundSince ?? Date.now()), dirty: true, touched: false };
      this.devices.set(device.deviceId, state);
      return state;
    }
    const stored = await this.deviceStates.findById(device.deviceId).lean();
    const state: LiveDevice = stored ? fromDoc(stored) : { ...emptyState(device.boundSince ?? Date.now()), dirty: true, touched: false };
    if (cached && cached.lastSeenAt > state.lastSeenAt) state.lastSeenAt = cached.lastSeenAt;
    this.devices.set(device.deviceId, state);
    return state;
  }

  private async saveDevice(deviceId: string, s: LiveDevice): Promise<void> {
    s.dirty = false;
    await this.deviceStates.updateOne(
      { _id: deviceId },
      {
        $max: { lastSeenAt: s.lastSeenAt },
        $set: {
          battery: s.battery,
          batteryAt: s.batteryAt,
          lowBatterySince: s.lowBatterySince,
          vitals: s.vitals,
          vitalsEpisode: s.vitalsEpisode,
          lastTrigger: s.lastTrigger,
          silentSince: s.silentSince,
          updatedAt: new Date(),
        },
      },
      { upsert: true },
    );
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
    recent: [],
    dirty: false,
    touched: false,
  };
}
