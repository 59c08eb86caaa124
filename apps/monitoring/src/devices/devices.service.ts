import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import {
  DEFAULT_HEARTBEAT_SEC,
  DeviceKinds,
  DeviceKindSchema,
  DeviceRegistered,
  DeviceUnbound,
  DeviceUpdated,
  type DeviceSnapshot,
} from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { RegistryFacts } from '../registry-facts/registry-facts.service';
import { forbidden, inRegionScope, notFound, regionScopeFilter } from '../shared/scope';
import { VendorIdSchema, VendorsService } from '../vendors/vendors.service';
import { DeviceDirectory, toInfo } from './device-directory';
import { Device } from './device.schema';

const Binding = z
  .object({ elderId: z.string().min(1).max(64).optional(), facilityId: z.string().min(1).max(64).optional() })
  .refine((b) => (b.elderId ? 1 : 0) + (b.facilityId ? 1 : 0) === 1, { message: 'exactly one of elderId or facilityId', path: ['elderId'] });

const DeviceInput = z
  .object({
    vendorId: VendorIdSchema,
    externalId: z.string().trim().min(1).max(64),
    kind: DeviceKindSchema,
    model: z.string().trim().min(1).max(100),
    elderId: z.string().min(1).max(64).optional(),
    facilityId: z.string().min(1).max(64).optional(),
    heartbeatIntervalSec: z.number().int().min(10).max(7 * 86_400).optional(),
    battery: z.number().int().min(0).max(100).optional(),
  })
  .refine((b) => (b.elderId ? 1 : 0) + (b.facilityId ? 1 : 0) === 1, { message: 'exactly one of elderId or facilityId', path: ['elderId'] });

const DevicePatch = z
  .object({
    model: z.string().trim().min(1).max(100).optional(),
    heartbeatIntervalSec: z.number().int().min(10).max(7 * 86_400).optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'nothing to change');

const UnbindInput = z.object({ reason: z.string().trim().min(1).max(200) });

const DeviceListQuery = PageQuery.extend({
  elderId: z.string().min(1).optional(),
  facilityId: z.string().min(1).optional(),
  kind: DeviceKindSchema.optional(),
  vendorId: z.string().min(1).optional(),
  active: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

type DeviceRecord = Omit<Device, 'outbox' | 'outboxPending'>;

export interface DeviceView extends Omit<DeviceRecord, '_id' | 'boundSince' | 'updatedAt'> {
  deviceId: string;
  kindLabel: { zh: string; en: string };
  boundSince: string | null;
}

const toView = ({ _id, boundSince, updatedAt: _u, ...d }: DeviceRecord): DeviceView => ({
  deviceId: _id,
  ...d,
  boundSince: boundSince ? new Date(boundSince).toISOString() : null,
  kindLabel: DeviceKinds.labels[d.kind],
});

function snapshot(d: DeviceRecord): DeviceSnapshot {
  return {
    deviceId: d._id,
    vendorId: d.vendorId,
    externalId: d.externalId,
    kind: d.kind,
    model: d.model,
    elderId: d.elderId,
    facilityId: d.facilityId,
    regionCode: d.regionCode,
    regionPath: d.regionPath,
    location: d.location,
    boundSince: d.boundSince ? new Date(d.boundSince).toISOString() : null,
    heartbeatIntervalSec: d.heartbeatIntervalSec,
    battery: d.battery,
    active: d.active,
    version: d.version,
  };
}

function concurrentUpdate(): AppError {
  return new AppError('MONITORING.CONCURRENT_UPDATE', 409, 'The device was changed meanwhile; reload and retry', { messageZh: '设备已被他人修改，请刷新后重试' });
}

/**
 * The device registry. Every change is one atomic write of the device document together with its
 * event (outbox), and the in-memory directory used by ingestion and the rules is updated at once.
 */
@Injectable()
export class DevicesService implements OnModuleInit {
  constructor(
    @InjectModel(Device.name) private readonly devices: Model<Device>,
    private readonly directory: DeviceDirectory,
    private readonly facts: RegistryFacts,
    private readonly vendors: VendorsService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    // A province's devices are a big collection the store scans to find pending events (no boolean
    // index lookups on FerretDB v1); this process's writes nudge the relay at once, so an idle poll
    // (only for writes made by another replica) can be rare.
    await this.relay.register(this.devices.collection, { maxIdlePollMs: 30_000 });
  }

  async register(principal: Principal, body: unknown, correlationId: string): Promise<DeviceView> {
    const input = parseInput(DeviceInput, body);
    if (!(await this.vendors.exists(input.vendorId))) {
      throw new AppError('MONITORING.VENDOR_NOT_FOUND', 422, `vendorId: no vendor ${input.vendorId}`, { field: 'vendorId', messageZh: `厂商 ${input.vendorId} 不存在` });
    }
    const place = this.resolveBinding(principal, input);
    const now = new Date();
    const record: DeviceRecord = {
      _id: uuidv7(),
      vendorId: input.vendorId,
      externalId: input.externalId,
      kind: input.kind,
      model: input.model,
      ...place,
      boundSince: now,
      heartbeatIntervalSec: input.heartbeatIntervalSec ?? DEFAULT_HEARTBEAT_SEC[input.kind],
      battery: input.battery ?? null,
      active: true,
      version: 1,
      updatedAt: now,
    };
    const event = this.events.create(DeviceRegistered, { key: record._id, correlationId, payload: { device: snapshot(record) } });
    try {
      await this.devices.collection.insertOne({ ...record, ...outboxFields([event]) } as never);
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        throw new AppError('MONITORING.DEVICE_EXISTS', 409, `externalId: vendor ${input.vendorId} already registered device ${input.externalId}`, {
          field: 'externalId',
          messageZh: `该厂商的设备 ${input.externalId} 已登记`,
        });
      }
      throw error;
    }
    this.relay.nudge(this.devices.collection.collectionName);
    this.directory.keep(toInfo(record));
    await this.directory.markChanged();
    return toView(record);
  }

  async list(principal: Principal, query: unknown): Promise<Page<DeviceView>> {
    const q = parseInput(DeviceListQuery, query);
    const filter: Record<string, unknown> = { ...this.scopeFilter(principal) };
    if (q.elderId) filter['elderId'] = q.elderId;
    if (q.facilityId) filter['facilityId'] = q.facilityId;
    if (q.kind) filter['kind'] = q.kind;
    if (q.vendorId) filter['vendorId'] = q.vendorId;
    if (q.active !== undefined) filter['active'] = q.active;
    const [items, total] = await Promise.all([
      this.devices.find(filter, { outbox: 0, outboxPending: 0 }).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.devices.countDocuments(filter),
    ]);
    return { items: items.map(toView), page: q.page, pageSize: q.pageSize, total };
  }

  async get(principal: Principal, deviceId: string): Promise<DeviceView> {
    return toView(await this.find(principal, deviceId));
  }

  async update(principal: Principal, deviceId: string, body: unknown, correlationId: string): Promise<DeviceView> {
    const patch = parseInput(DevicePatch, body);
    const current = await this.find(principal, deviceId, true);
    const next: DeviceRecord = { ...current, ...patch, version: current.version + 1, updatedAt: new Date() };
    return this.store(current, next, DeviceUpdated, { device: snapshot(next), changedFields: Object.keys(patch) }, correlationId);
  }

  /** Moves the device to another elder or facility (a device handed on, or installed elsewhere). */
  async rebind(principal: Principal, deviceId: string, body: unknown, correlationId: string): Promise<DeviceView> {
    const binding = parseInput(Binding, body);
    const current = await this.find(principal, deviceId, true);
    const place = this.resolveBinding(principal, binding);
    const next: DeviceRecord = { ...current, ...place, boundSince: new Date(), active: true, version: current.version + 1, updatedAt: new Date() };
    return this.store(current, next, DeviceUpdated, { device: snapshot(next), changedFields: ['elderId', 'facilityId', 'regionCode', 'boundSince', 'active'] }, correlationId);
  }

  /** The device leaves service: no rule fires for it any more, its readings are refused. */
  async unbind(principal: Principal, deviceId: string, body: unknown, correlationId: string): Promise<DeviceView> {
    const { reason } = parseInput(UnbindInput, body);
    const current = await this.find(principal, deviceId, true);
    if (!current.active) {
      throw new AppError('MONITORING.DEVICE_NOT_BOUND', 409, 'The device is not bound', { messageZh: '设备未绑定' });
    }
    // Region stays: the device remains in the bureau's inventory (and scope) where it was last used.
    const next: DeviceRecord = { ...current, elderId: null, facilityId: null, boundSince: null, active: false, version: current.version + 1, updatedAt: new Date() };
    return this.store(
      current,
      next,
      DeviceUnbound,
      { device: snapshot(next), previousElderId: current.elderId, previousFacilityId: current.facilityId, reason },
      correlationId,
    );
  }

  private async store<P>(current: DeviceRecord, next: DeviceRecord, definition: Parameters<Events['create']>[0], payload: P, correlationId: string): Promise<DeviceView> {
    const event = this.events.create(definition as never, { key: next._id, correlationId, payload: payload as never });
    const { _id, ...fields } = next;
    const result = await this.devices.updateOne({ _id, version: current.version }, withOutbox({ $set: fields }, [event]));
    if (result.modifiedCount !== 1) throw concurrentUpdate();
    this.relay.nudge(this.devices.collection.collectionName);
    this.directory.keep(toInfo(next));
    await this.directory.markChanged();
    return toView(next);
  }

  private async find(principal: Principal, deviceId: string, forWrite = false): Promise<DeviceRecord> {
    if (forWrite && principal.role !== 'civil_affairs_admin') throw forbidden();
    const d = await this.devices.findOne({ _id: deviceId }, { outbox: 0, outboxPending: 0 }).lean();
    if (!d || !this.visible(principal, d)) throw notFound('MONITORING.DEVICE_NOT_FOUND', 'Device', '设备');
    return d;
  }

  private visible(principal: Principal, d: DeviceRecord): boolean {
    if (REGION_ROLES.includes(principal.role)) return inRegionScope(principal, d.regionPath);
    if (principal.role === 'elder' || principal.role === 'guardian') return !!d.elderId && (principal.elderIds ?? []).includes(d.elderId);
    return false;
  }

  private scopeFilter(principal: Principal): Record<string, unknown> {
    if (principal.role === 'elder' || principal.role === 'guardian') return { elderId: { $in: principal.elderIds ?? [] } };
    return regionScopeFilter(principal);
  }

  private resolveBinding(principal: Principal, b: { elderId?: string; facilityId?: string }) {
    if (b.elderId) {
      const elder = this.facts.elder(b.elderId);
      if (!elder || !inRegionScope(principal, elder.regionPath)) {
        throw new AppError('MONITORING.ELDER_UNKNOWN', 422, `elderId: no elder ${b.elderId} in your region`, { field: 'elderId', messageZh: '您的辖区内没有该老人' });
      }
      if (elder.status !== 'ACTIVE') {
        throw new AppError('MONITORING.ELDER_INACTIVE', 422, `elderId: the elder is ${elder.status}`, { field: 'elderId', messageZh: '该老人已不在册' });
      }
      return { elderId: elder._id, facilityId: null, regionCode: elder.regionCode, regionPath: elder.regionPath, location: elder.home };
    }
    const facility = this.facts.facility(b.facilityId ?? '');
    if (!facility || !inRegionScope(principal, facility.regionPath)) {
      throw new AppError('MONITORING.FACILITY_UNKNOWN', 422, `facilityId: no facility ${b.facilityId} in your region`, { field: 'facilityId', messageZh: '您的辖区内没有该设施' });
    }
    return { elderId: null, facilityId: facility._id, regionCode: facility.regionCode, regionPath: facility.regionPath, location: facility.location };
  }
}
