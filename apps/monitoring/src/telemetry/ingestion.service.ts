import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { isTelemetryReading, isTelemetryReadingsPayload, ReadingKindSchema, ReadingVitalsSchema, TelemetryReadings, type TelemetryReading } from '@yiyang/contracts';
import { newEnvelope, type OutgoingRecord } from '@yiyang/messaging';
import { AppError } from '@yiyang/service-kit';
import { Counter, register } from 'prom-client';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { DeviceDirectory } from '../devices/device-directory';
import { TelemetryPublisher } from './telemetry-publisher';

/** Most a delivery may carry (1 MB request bodies; ~200 bytes a reading). */
export const MAX_BATCH = 2_000;

const Instant = z.union([z.number().int().positive(), z.iso.datetime({ offset: true }).transform((s) => Date.parse(s))]);

/** One reading as a vendor platform sends it: its own device id, epoch ms or ISO time. */
export const VendorReading = z.object({
  externalId: z.string().min(1).max(64),
  kind: ReadingKindSchema,
  at: Instant,
  seq: z.number().int().nonnegative().optional(),
  battery: z.number().int().min(0).max(100).optional(),
  vitals: ReadingVitalsSchema.optional(),
  loc: z.object({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).optional(),
  level: z.number().min(0).max(100).optional(),
});

type VendorReadingOut = z.infer<typeof VendorReading>;

/**
 * The common case of `VendorReading`, precompiled: a reading with epoch-ms `at` and fields of the
 * right types and ranges (the telemetry contract's own guard checks the same bounds). Returns the
 * reading as `VendorReading.parse` would (unknown fields dropped), or undefined — then zod decides,
 * so ISO times, and every refusal with its field and reason, are exactly what they were. The zod
 * walk per reading was the largest share of ingestion's own CPU after kafkajs (bench/telemetry).
 */
function fastVendorReading(item: unknown): VendorReadingOut | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined;
  const { externalId, kind, at, seq, battery, vitals, loc, level } = item as Record<string, unknown>;
  if (typeof externalId !== 'string' || externalId.length < 1 || externalId.length > 64) return undefined;
  const reading: Record<string, unknown> = { kind, at };
  if (seq !== undefined) reading['seq'] = seq;
  if (battery !== undefined) reading['battery'] = battery;
  if (vitals !== undefined) reading['vitals'] = vitals;
  if (loc !== undefined) reading['loc'] = loc;
  if (level !== undefined) reading['level'] = level;
  // The contract guard checks exactly these fields' types and ranges; it passes nested objects
  // through, so accept them only without foreign keys (zod would strip those: let it).
  if (!isTelemetryReading(reading)) return undefined;
  if (vitals !== undefined && !onlyKeys(vitals as object, VITAL_KEYS)) return undefined;
  if (loc !== undefined && !onlyKeys(loc as object, LOC_KEYS)) return undefined;
  return { externalId, ...(reading as TelemetryReading) };
}
const VITAL_KEYS: ReadonlySet<string> = new Set(['hr', 'spo2', 'sys', 'dia', 'glu']);
const LOC_KEYS: ReadonlySet<string> = new Set(['lat', 'lng']);
function onlyKeys(o: object, allowed: ReadonlySet<string>): boolean {
  for (const k in o) if (!allowed.has(k) || (o as Record<string, unknown>)[k] === undefined) return false;
  return true;
}

const TELEMETRY_TOPIC = TelemetryReadings.topic.name;

/**
 * Serialises the telemetry envelopes of one delivery: exactly `JSON.stringify` of the envelope
 * `{eventId, type, version, occurredAt, producer, key, correlationId, causationId, payload}`
 * (telemetry-envelope.spec.ts holds it to that), but the parts every record of the delivery
 * shares — type, version, the instant, vendor, correlation id — are serialised once, and per record
 * only the event id, the device id and its readings. Stringifying each whole envelope was the
 * largest share of ingestion's own CPU after kafkajs (bench/telemetry).
 */
export class TelemetryEnvelopeWriter {
  private readonly head: string;
  private readonly middle: string;
  private readonly tail: string;
  private readonly vendorPart: string;

  constructor(receivedAt: number, vendorId: string, correlationId: string) {
    const occurredAt = new Date(receivedAt).toISOString();
    this.head = '{"eventId":';
    this.middle = `,"type":${JSON.stringify(TelemetryReadings.type)},"version":${JSON.stringify(TelemetryReadings.version)},"occurredAt":"${occurredAt}","producer":"monitoring","key":`;
    this.tail = `,"correlationId":${JSON.stringify(correlationId)},"causationId":null,"payload":{"deviceId":`;
    this.vendorPart = `,"vendorId":${JSON.stringify(vendorId)},"receivedAt":${JSON.stringify(receivedAt)},"readings":`;
  }

  /** The envelope of `payload` (its vendorId and receivedAt are the writer's) as JSON. */
  write(eventId: string, payload: { deviceId: string; readings: readonly TelemetryReading[] }): string {
    const device = JSON.stringify(payload.deviceId);
    return `${this.head}${JSON.stringify(eventId)}${this.middle}${device}${this.tail}${device}${this.vendorPart}${JSON.stringify(payload.readings)}}}`;
  }
}

export interface RejectedReading {
  index: number;
  code: 'MONITORING.READING_INVALID' | 'MONITORING.DEVICE_UNKNOWN' | 'MONITORING.DEVICE_NOT_BOUND' | 'MONITORING.READING_OUT_OF_WINDOW';
  field?: string;
  reason: string;
  reasonZh: string;
}

export interface IngestResult {
  accepted: number;
  rejected: RejectedReading[];
}

const readingsCounter =
  (register.getSingleMetric('yiyang_telemetry_readings_total') as Counter<string>) ??
  new Counter({
    name: 'yiyang_telemetry_readings_total',
    help: 'Readings received from vendor platforms, by vendor and outcome (accepted, invalid, unknown_device, unbound_device, out_of_window)',
    labelNames: ['vendor', 'outcome'],
  });

/**
 * Vendor deliveries → telemetry topic. Each reading is checked on its own: a bad or unknown one is
 * refused and counted, the rest go through (a vendor must not lose a building's smoke alarm
 * because one watch in the same batch is unregistered). The response comes only after the broker
 * acknowledged, so a vendor that sees an error or a timeout re-sends; the rules dedupe.
 */
@Injectable()
export class IngestionService {
  private readonly maxFutureMs: number;
  private readonly maxAgeMs: number;

  constructor(
    private readonly directory: DeviceDirectory,
    private readonly telemetry: TelemetryPublisher,
    @Inject(ConfigService) config: ConfigService,
  ) {
    this.maxFutureMs = Number(config.get('TELEMETRY_MAX_FUTURE_SECONDS')) * 1000;
    this.maxAgeMs = Number(config.get('TELEMETRY_MAX_AGE_SECONDS')) * 1000;
  }

  async ingest(vendorId: string, body: unknown, correlationId: string): Promise<IngestResult> {
    const items = (body as { readings?: unknown } | null)?.readings;
    if (!Array.isArray(items)) {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'readings: must be an array of readings', { field: 'readings', messageZh: '字段 readings 必须是读数数组' });
    }
    if (items.length === 0 || items.length > MAX_BATCH) {
      throw new AppError('MONITORING.BATCH_SIZE', 400, `readings: 1 to ${MAX_BATCH} readings per delivery`, {
        field: 'readings',
        messageZh: `每批读数须为 1 至 ${MAX_BATCH} 条`,
      });
    }
    const now = Date.now();
    const rejected: RejectedReading[] = [];
    const byDevice = new Map<string, TelemetryReading[]>();
    let unknown = 0;
    let invalid = 0;
    let unbound = 0;
    let stale = 0;
    for (let index = 0; index < items.length; index++) {
      let data = fastVendorReading(items[index]);
      if (!data) {
        const parsed = VendorReading.safeParse(items[index]);
        if (!parsed.success) {
          invalid++;
          const issue = parsed.error.issues[0];
          const field = issue.path.join('.');
          rejected.push({ index, code: 'MONITORING.READING_INVALID', field, reason: `${field}: ${issue.message}`, reasonZh: `字段 ${field} 无效：${issue.message}` });
          continue;
        }
        data = parsed.data;
      }
      const { externalId, ...reading } = data;
      const device = this.directory.byVendor(vendorId, externalId);
      if (!device) {
        unknown++;
        rejected.push({ index, code: 'MONITORING.DEVICE_UNKNOWN', field: 'externalId', reason: `no device ${externalId} registered for this vendor`, reasonZh: `该厂商未登记设备 ${externalId}` });
        continue;
      }
      if (!device.active) {
        unbound++;
        rejected.push({ index, code: 'MONITORING.DEVICE_NOT_BOUND', field: 'externalId', reason: `device ${externalId} is not bound to anyone`, reasonZh: `设备 ${externalId} 未绑定` });
        continue;
      }
      if (reading.at > now + this.maxFutureMs || reading.at < now - this.maxAgeMs) {
        stale++;
        rejected.push({ index, code: 'MONITORING.READING_OUT_OF_WINDOW', field: 'at', reason: 'at: too far in the future or the past (check the device clock)', reasonZh: '字段 at 超出允许的时间范围（请检查设备时钟）' });
        continue;
      }
      const list = byDevice.get(device.deviceId);
      if (list) list.push(reading);
      else byDevice.set(device.deviceId, [reading]);
    }

    // One envelope per device of the delivery, built here rather than by `newEnvelope`, which would
    // walk the payload through zod again: every reading was just checked against the same bounds,
    // so the cheap contract guard suffices (a payload it refused would go through newEnvelope,
    // which throws — the producer still cannot write what its contract forbids). One clock read
    // for the delivery: its records are accepted at the same instant.
    const writer = new TelemetryEnvelopeWriter(now, vendorId, correlationId);
    const records: OutgoingRecord[] = [];
    for (const [deviceId, readings] of byDevice) {
      for (let i = 0; i < readings.length; i += 500) {
        const payload = { deviceId, vendorId, receivedAt: now, readings: readings.length > 500 ? readings.slice(i, i + 500) : readings };
        if (!isTelemetryReadingsPayload(payload)) {
          const envelope = newEnvelope('monitoring', TelemetryReadings, { key: deviceId, correlationId, payload });
          records.push({ topic: TELEMETRY_TOPIC, key: deviceId, value: JSON.stringify(envelope) });
          continue;
        }
        records.push({ topic: TELEMETRY_TOPIC, key: deviceId, value: writer.write(uuidv7(), payload) });
      }
    }
    // Sent without the `yiyang-event-type` header the other topics carry: the telemetry topic has one
    // event type, no consumer routes on it, and kafkajs encodes each header into buffers of its own
    // — 40 % of its per-record encode cost measured here (8.6 vs 14.4 µs a record), paid per reading.
    await this.telemetry.send(records);
    const accepted = items.length - rejected.length;
    if (accepted) readingsCounter.inc({ vendor: vendorId, outcome: 'accepted' }, accepted);
    if (invalid) readingsCounter.inc({ vendor: vendorId, outcome: 'invalid' }, invalid);
    if (unknown) readingsCounter.inc({ vendor: vendorId, outcome: 'unknown_device' }, unknown);
    if (unbound) readingsCounter.inc({ vendor: vendorId, outcome: 'unbound_device' }, unbound);
    if (stale) readingsCounter.inc({ vendor: vendorId, outcome: 'out_of_window' }, stale);
    return { accepted, rejected };
  }
}
