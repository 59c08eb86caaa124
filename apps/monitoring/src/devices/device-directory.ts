import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import type { DeviceKind } from '@yiyang/contracts';
import type { Model } from 'mongoose';
import { Device } from './device.schema';

/** What ingestion and the rule engine need to know about a device, at stream speed. */
export interface DeviceInfo {
  deviceId: string;
  vendorId: string;
  externalId: string;
  kind: DeviceKind;
  elderId: string | null;
  facilityId: string | null;
  regionCode: string;
  regionPath: string[];
  location: { lat: number; lng: number } | null;
  heartbeatIntervalSec: number;
  /** Epoch ms the device was bound (a device that never reports is silent from then on). */
  boundSince: number | null;
  active: boolean;
  version: number;
}

/** Every this many refreshes the directory rescans even if the change mark did not move (self-healing). */
const FULL_REFRESH_EVERY = 20;

/**
 * The device registry in memory: by id, and by (vendor, vendor's own id) for ingestion. Loaded at
 * boot, updated at once by writes in this process, and refreshed from the database for writes
 * made by other replicas (by `updatedAt`, every DIRECTORY_REFRESH_MS).
 *
 * The `updatedAt` range is a full scan on FerretDB (every device document decoded: ~0.5–1 s of the
 * database's CPU at 20,000 devices, with the alert path's writes queued behind it — bench/telemetry).
 * So every device write also bumps a change mark (`directory_marks`, one document read by _id), and
 * a refresh scans only when the mark moved — or every FULL_REFRESH_EVERY-th time, which covers a
 * writer that died between its write and its mark.
 */
@Injectable()
export class DeviceDirectory implements OnModuleInit, OnApplicationShutdown {
  private readonly byId = new Map<string, DeviceInfo>();
  /** vendorId → (vendor's own id → deviceId): two lookups, no key string built per reading. */
  private readonly byExternal = new Map<string, Map<string, string>>();
  private readonly byElder = new Map<string, Set<string>>();
  private refreshedUntil = new Date(0);
  private timer?: NodeJS.Timeout;
  /** The change mark as of the last scan (undefined: never scanned). */
  private seenMark?: number;
  private refreshes = 0;

  constructor(
    @InjectModel(Device.name) private readonly devices: Model<Device>,
    @Inject(ConfigService) private readonly config: ConfigService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), Number(this.config.get('DIRECTORY_REFRESH_MS')));
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  get size(): number {
    return this.byId.size;
  }

  get(deviceId: string): DeviceInfo | undefined {
    return this.byId.get(deviceId);
  }

  byVendor(vendorId: string, externalId: string): DeviceInfo | undefined {
    const id = this.byExternal.get(vendorId)?.get(externalId);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Active devices bound to the elder. */
  ofElder(elderId: string): DeviceInfo[] {
    return [...(this.byElder.get(elderId) ?? [])].flatMap((id) => this.byId.get(id) ?? []);
  }

  all(): IterableIterator<DeviceInfo> {
    return this.byId.values();
  }

  async refresh(): Promise<void> {
    const mark = await this.marks().findOne({ _id: 'devices' });
    const seq = mark?.seq ?? 0;
    this.refreshes++;
    if (seq === this.seenMark && this.refreshes % FULL_REFRESH_EVERY !== 0) return;
    // The mark is read before the scan: a write after this point moves it again for the next refresh.
    const now = new Date(Date.now() - 5_000);
    const changed = await this.devices.find({ updatedAt: { $gte: this.refreshedUntil } }, { outbox: 0, outboxPending: 0 }).lean();
    for (const d of changed) this.keep(toInfo(d));
    this.refreshedUntil = now;
    this.seenMark = seq;
  }

  /** Call after every stored device write (after the write: see refresh). */
  async markChanged(): Promise<void> {
    await this.marks().updateOne({ _id: 'devices' }, { $inc: { seq: 1 } }, { upsert: true });
  }

  private marks() {
    return this.devices.db.collection<{ _id: string; seq: number }>('directory_marks');
  }

  keep(info: DeviceInfo): void {
    const previous = this.byId.get(info.deviceId);
    if (previous && previous.version > info.version) return;
    if (previous?.elderId) this.byElder.get(previous.elderId)?.delete(info.deviceId);
    this.byId.set(info.deviceId, info);
    let ofVendor = this.byExternal.get(info.vendorId);
    if (!ofVendor) this.byExternal.set(info.vendorId, (ofVendor = new Map()));
    if (previous && (previous.vendorId !== info.vendorId || previous.externalId !== info.externalId) && this.byExternal.get(previous.vendorId)?.get(previous.externalId) === info.deviceId) {
      this.byExternal.get(previous.vendorId)?.delete(previous.externalId);
    }
    ofVendor.set(info.externalId, info.deviceId);
    if (info.elderId && info.active) {
      const set = this.byElder.get(info.elderId) ?? new Set<string>();
      set.add(info.deviceId);
      this.byElder.set(info.elderId, set);
    }
  }
}

/**
 * One copy of each value thousands of devices share (vendor, kind, region and its path): decoded
 * from the database, each device brought its own — about ten objects a device that the rule
 * engine's every full garbage collection walked. Bounded by the vendors, kinds and regions there are.
 */
const sharedStrings = new Map<string, string>();
const sharedPaths = new Map<string, string[]>();
function shared<T extends string>(value: T): T {
  const kept = sharedStrings.get(value);
  if (kept !== undefined) return kept as T;
  sharedStrings.set(value, value);
  return value;
}
function sharedPath(path: string[]): string[] {
  const key = path.join('/');
  let kept = sharedPaths.get(key);
  if (!kept) sharedPaths.set(key, (kept = Object.freeze(path.map(shared)) as string[]));
  return kept;
}

export function toInfo(d: Omit<Device, 'outbox' | 'outboxPending'>): DeviceInfo {
  return {
    deviceId: d._id,
    vendorId: shared(d.vendorId),
    externalId: d.externalId,
    kind: shared(d.kind),
    elderId: d.elderId,
    facilityId: d.facilityId,
    regionCode: shared(d.regionCode),
    regionPath: sharedPath(d.regionPath),
    location: d.location,
    heartbeatIntervalSec: d.heartbeatIntervalSec,
    boundSince: d.boundSince ? new Date(d.boundSince).getTime() : null,
    active: d.active,
    version: d.version,
  };
}
