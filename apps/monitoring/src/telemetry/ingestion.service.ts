import { Inject, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ReadingKindSchema, ReadingVitalsSchema, TelemetryReadings, type Envelope, type TelemetryReading } from '@yiyang/contracts';
import { EventPublisher, newEnvelope } from '@yiyang/messaging';
import { AppError } from '@yiyang/service-kit';
import { Counter, register } from 'prom-client';
import { z } from 'zod';
import { DeviceDirectory } from '../devices/device-directory';

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
    private readonly publisher: EventPublisher,
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
      const parsed = VendorReading.safeParse(items[index]);
      if (!parsed.success) {
        invalid++;
        const issue = parsed.error.issues[0];
        const field = issue.path.join('.');
        rejected.push({ index, code: 'MONITORING.READING_INVALID', field, reason: `${field}: ${issue.message}`, reasonZh: `字段 ${field} 无效：${issue.message}` });
        continue;
      }
      const { externalId, ...reading } = parsed.data;
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

    const envelopes: Envelope[] = [];
    for (const [deviceId, readings] of byDevice) {
      for (let i = 0; i < readings.length; i += 500) {
        envelopes.push(
          newEnvelope('monitoring', TelemetryReadings, {
            key: deviceId,
            correlationId,
            payload: { deviceId, vendorId, receivedAt: now, readings: readings.slice(i, i + 500) },
          }),
        );
      }
    }
    await this.publisher.publish(envelopes, () => TelemetryReadings.topic.name);
    const accepted = items.length - rejected.length;
    if (accepted) readingsCounter.inc({ vendor: vendorId, outcome: 'accepted' }, accepted);
    if (invalid) readingsCounter.inc({ vendor: vendorId, outcome: 'invalid' }, invalid);
    if (unknown) readingsCounter.inc({ vendor: vendorId, outcome: 'unknown_device' }, unknown);
    if (unbound) readingsCounter.inc({ vendor: vendorId, outcome: 'unbound_device' }, unbound);
    if (stale) readingsCounter.inc({ vendor: vendorId, outcome: 'out_of_window' }, stale);
    return { accepted, rejected };
  }
}
