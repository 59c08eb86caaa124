import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FacilityKinds, FacilityKindSchema, FacilityUpserted, RegionCodeSchema } from '@yiyang/contracts';
import { h3Cell, regionLevel } from '@yiyang/geo';
import { Events, OutboxRelay, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { ChinaLatLng, concurrentUpdate, QueryBool, WeeklySlots } from '../providers/inputs';
import { ProvidersService } from '../providers/providers.service';
import { RegionsService } from '../regions/regions.service';
import { forbidden, notFound, regionScopeFilter } from '../shared/scope';
import { Facility } from './facility.schema';

const BedCount = z.number().int().min(0).max(100_000);

export const FacilityInput = z.object({
  kind: FacilityKindSchema,
  name: z.string().trim().min(1).max(100),
  regionCode: RegionCodeSchema.refine((c) => ['COUNTY', 'STREET', 'COMMUNITY'].includes(regionLevel(c) ?? ''), 'must be a county, street or community code'),
  address: z.string().trim().min(1).max(200),
  location: ChinaLatLng,
  providerId: z.string().min(1).nullable().default(null),
  openingHours: WeeklySlots.default([]),
  capacity: z.number().int().min(0).max(100_000),
  beds: z
    .object({ total: BedCount, nursing: BedCount, occupied: BedCount })
    .superRefine((b, ctx) => {
      if (b.nursing > b.total) ctx.addIssue({ code: 'custom', path: ['nursing'], message: 'cannot exceed beds.total' });
      if (b.occupied > b.total) ctx.addIssue({ code: 'custom', path: ['occupied'], message: 'cannot exceed beds.total' });
    }),
  open: z.boolean().default(true),
});

const OccupancyInput = z.object({ occupied: BedCount });

const FacilityListQuery = PageQuery.extend({
  kind: FacilityKindSchema.optional(),
  regionCode: RegionCodeSchema.optional(),
  providerId: z.string().min(1).optional(),
  open: QueryBool.optional(),
});

export type FacilityRecord = Omit<Facility, 'outbox' | 'outboxPending'>;

export interface FacilityView extends Omit<FacilityRecord, '_id'> {
  facilityId: string;
  kindLabel: { zh: string; en: string };
}

const toView = ({ _id, ...f }: FacilityRecord): FacilityView => ({ facilityId: _id, ...f, kindLabel: FacilityKinds.labels[f.kind] });

/** Bureaus see facilities in their subtree; an operator sees the facilities it runs. */
export function facilityScopeFilter(principal: Principal): Record<string, unknown> {
  if (REGION_ROLES.includes(principal.role)) return regionScopeFilter(principal);
  if (principal.role === 'provider_operator' && principal.providerId) return { providerId: principal.providerId };
  throw forbidden();
}

@Injectable()
export class FacilitiesService implements OnModuleInit {
  constructor(
    @InjectModel(Facility.name) private readonly facilities: Model<Facility>,
    private readonly regions: RegionsService,
    private readonly providers: ProvidersService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.facilities.collection);
  }

  async create(principal: Principal, body: unknown, correlationId: string): Promise<FacilityView> {
    return this.write(principal, undefined, body, correlationId);
  }

  async update(principal: Principal, facilityId: string, body: unknown, correlationId: string): Promise<FacilityView> {
    return this.write(principal, facilityId, body, correlationId);
  }

  private async write(principal: Principal, facilityId: string | undefined, body: unknown, correlationId: string): Promise<FacilityView> {
    const input = parseInput(FacilityInput, body);
    const existing = facilityId ? await this.facilities.findOne({ _id: facilityId, ...regionScopeFilter(principal) }, { outbox: 0, outboxPending: 0 }).lean() : null;
    if (facilityId && !existing) throw notFound('REGISTRY.FACILITY_NOT_FOUND', 'Facility', '养老服务设施');
    const region = await this.regions.requireInScope(principal, input.regionCode, 'regionCode');
    if (input.providerId) await this.providers.requireVisible(principal, input.providerId, 'providerId');
    const id = facilityId ?? uuidv7();
    const state = { ...input, regionPath: region.regionPath, locationCell: h3Cell(input.location), version: (existing?.version ?? 0) + 1 };
    await this.store(id, existing, state, correlationId);
    return toView({ _id: id, ...state });
  }

  /**
   * Bed occupancy is the one figure an operator keeps current for the facilities it runs (admins may
   * too). It is a separate endpoint so an operator can never touch kind, location or capacity.
   */
  async setOccupancy(principal: Principal, facilityId: string, body: unknown, correlationId: string): Promise<FacilityView> {
    const { occupied } = parseInput(OccupancyInput, body);
    const existing = await this.facilities.findOne({ _id: facilityId, ...facilityScopeFilter(principal) }, { outbox: 0, outboxPending: 0 }).lean();
    if (!existing) throw notFound('REGISTRY.FACILITY_NOT_FOUND', 'Facility', '养老服务设施');
    if (occupied > existing.beds.total) {
      throw new AppError('REGISTRY.BEDS_OVER_CAPACITY', 400, `occupied: cannot exceed the ${existing.beds.total} beds of this facility`, {
        field: 'occupied',
        messageZh: `在住床位数不能超过总床位数 ${existing.beds.total}`,
      });
    }
    const { _id, ...rest } = existing;
    const state = { ...rest, beds: { ...existing.beds, occupied }, version: existing.version + 1 };
    await this.store(_id, existing, state, correlationId);
    return toView({ _id, ...state });
  }

  private async store(id: string, existing: FacilityRecord | null, state: Omit<FacilityRecord, '_id'>, correlationId: string): Promise<void> {
    const event = this.events.create(FacilityUpserted, {
      key: id,
      correlationId,
      payload: {
        facility: {
          facilityId: id,
          kind: state.kind,
          name: state.name,
          regionCode: state.regionCode,
          regionPath: state.regionPath,
          address: state.address,
          location: state.location,
          locationCell: state.locationCell,
          providerId: state.providerId,
          openingHours: state.openingHours,
          capacity: state.capacity,
          beds: state.beds,
          open: state.open,
          version: state.version,
        },
      },
    });
    if (existing) {
      const res = await this.facilities.updateOne({ _id: id, version: existing.version }, withOutbox({ $set: state }, [event]));
      if (res.matchedCount === 0) throw concurrentUpdate();
    } else {
      await this.facilities.create({ _id: id, ...state, ...outboxFields([event]) });
    }
    this.relay.nudge();
  }

  async get(principal: Principal, facilityId: string): Promise<FacilityView> {
    const facility = await this.facilities.findOne({ _id: facilityId, ...facilityScopeFilter(principal) }, { outbox: 0, outboxPending: 0 }).lean();
    if (!facility) throw notFound('REGISTRY.FACILITY_NOT_FOUND', 'Facility', '养老服务设施');
    return toView(facility);
  }

  async list(principal: Principal, query: unknown): Promise<Page<FacilityView>> {
    const q = parseInput(FacilityListQuery, query);
    const filter: Record<string, unknown> = { ...facilityScopeFilter(principal) };
    if (q.regionCode) filter['regionPath'] = { $all: [q.regionCode, ...(principal.regionCode ? [principal.regionCode] : [])] };
    // An operator's scope already pins providerId; a different one must not widen it.
    if (q.providerId) filter['providerId'] = principal.role === 'provider_operator' ? principal.providerId : q.providerId;
    if (q.kind) filter['kind'] = q.kind;
    if (q.open !== undefined) filter['open'] = q.open;
    const [items, total] = await Promise.all([
      this.facilities.find(filter, { outbox: 0, outboxPending: 0 }).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.facilities.countDocuments(filter),
    ]);
    return { items: items.map(toView), page: q.page, pageSize: q.pageSize, total };
  }

  /** For service contracts: a facility the caller may see, or a 422 naming the field. */
  async requireVisible(principal: Principal, facilityId: string, field: string): Promise<FacilityRecord> {
    const facility = await this.facilities.findOne({ _id: facilityId, ...facilityScopeFilter(principal) }, { outbox: 0, outboxPending: 0 }).lean();
    if (!facility) {
      throw new AppError('REGISTRY.FACILITY_NOT_FOUND', 422, `Facility ${facilityId} is not registered in your scope`, {
        field,
        messageZh: `养老服务设施 ${facilityId} 不存在或不在您的管辖范围内`,
      });
    }
    return facility;
  }
}
