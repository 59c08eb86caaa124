import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { ProviderTypes, ProviderTypeSchema, ProviderUpserted, RegionCodeSchema } from '@yiyang/contracts';
import { regionLevel, regionPath, regionWithin } from '@yiyang/geo';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { CatalogueService, ItemCode } from '../catalogue/catalogue.service';
import { RegionsService } from '../regions/regions.service';
import { forbidden, notFound } from '../shared/scope';
import { concurrentUpdate, QueryBool, uniqueList } from './inputs';
import { Provider } from './provider.schema';

const ServiceArea = RegionCodeSchema.refine((c) => ['STREET', 'COMMUNITY'].includes(regionLevel(c) ?? ''), 'must be a street or community code');

export const ProviderInput = z.object({
  name: z.string().trim().min(1).max(100),
  type: ProviderTypeSchema,
  /** Unified social credit code (统一社会信用代码) or a local licence number. */
  licenceNumber: z.string().trim().toUpperCase().regex(/^[0-9A-Z-]{6,30}$/, 'must be 6–30 letters, digits or dashes'),
  contactPhone: z.string().trim().regex(/^\+?[0-9][0-9 -]{5,19}$/, 'must be a phone number'),
  serviceAreas: uniqueList(ServiceArea, 500).min(1),
  offeredItems: uniqueList(ItemCode, 100).default([]),
  active: z.boolean().default(true),
});

const ProviderListQuery = PageQuery.extend({
  regionCode: RegionCodeSchema.optional(),
  type: ProviderTypeSchema.optional(),
  active: QueryBool.optional(),
  offers: ItemCode.optional(),
});

export type ProviderRecord = Omit<Provider, 'outbox' | 'outboxPending'>;

export interface ProviderView {
  providerId: string;
  name: string;
  type: Provider['type'];
  typeLabel: { zh: string; en: string };
  licenceNumber: string;
  contactPhone: string;
  serviceAreas: string[];
  offeredItems: string[];
  active: boolean;
  version: number;
}

const toView = (p: ProviderRecord): ProviderView => ({
  providerId: p._id,
  name: p.name,
  type: p.type,
  typeLabel: ProviderTypes.labels[p.type],
  licenceNumber: p.licenceNumber,
  contactPhone: p.contactPhone,
  serviceAreas: p.serviceAreas,
  offeredItems: p.offeredItems,
  active: p.active,
  version: p.version,
});

const snapshot = (id: string, s: Omit<ProviderRecord, '_id' | 'areaPaths' | 'contracts' | 'contractsRevision'>) => ({
  providerId: id,
  name: s.name,
  type: s.type,
  licenceNumber: s.licenceNumber,
  contactPhone: s.contactPhone,
  serviceAreas: s.serviceAreas,
  offeredItems: s.offeredItems,
  active: s.active,
  version: s.version,
});

/**
 * Which providers a principal may see: bureaus by the areas served, an operator only their own.
 * The operator's filter is on `_id`, so combine it with an id lookup through `$and`, never by spreading.
 */
export function providerScopeFilter(principal: Principal): Record<string, unknown> {
  if (REGION_ROLES.includes(principal.role) && principal.regionCode) return { areaPaths: principal.regionCode };
  if (principal.role === 'provider_operator' && principal.providerId) return { _id: principal.providerId };
  throw forbidden();
}

/** True when `regionCode` lies inside one of the provider's service areas. */
export function servesRegion(provider: Pick<Provider, 'serviceAreas'>, regionCode: string): boolean {
  return provider.serviceAreas.some((area) => regionWithin(regionCode, area));
}

@Injectable()
export class ProvidersService implements OnModuleInit {
  constructor(
    @InjectModel(Provider.name) private readonly providers: Model<Provider>,
    private readonly regions: RegionsService,
    private readonly catalogue: CatalogueService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.providers.collection);
  }

  async create(principal: Principal, body: unknown, correlationId: string): Promise<ProviderView> {
    return this.write(principal, undefined, body, correlationId);
  }

  async update(principal: Principal, providerId: string, body: unknown, correlationId: string): Promise<ProviderView> {
    return this.write(principal, providerId, body, correlationId);
  }

  private async write(principal: Principal, providerId: string | undefined, body: unknown, correlationId: string): Promise<ProviderView> {
    const input = parseInput(ProviderInput, body);
    const existing = providerId ? await this.providers.findOne({ $and: [{ _id: providerId }, providerScopeFilter(principal)] }, { outbox: 0 }).lean() : null;
    if (providerId && !existing) throw notFound('REGISTRY.PROVIDER_NOT_FOUND', 'Provider', '服务机构');
    for (const [i, area] of input.serviceAreas.entries()) await this.regions.requireInScope(principal, area, `serviceAreas.${i}`);
    await this.catalogue.requireActive(input.offeredItems, 'offeredItems');

    // A chain may serve several districts; a district bureau edits what lies in its own subtree and
    // keeps the areas another bureau contracted (it cannot see them, so it must not drop them).
    const keptElsewhere = (existing?.serviceAreas ?? []).filter((a) => !regionWithin(a, principal.regionCode ?? '-'));
    const serviceAreas = [...keptElsewhere, ...input.serviceAreas.filter((a) => !keptElsewhere.includes(a))];
    const id = providerId ?? uuidv7();
    if (await this.providers.exists({ licenceNumber: input.licenceNumber, _id: { $ne: id } })) throw licenceTaken();

    const state = {
      ...input,
      serviceAreas,
      areaPaths: [...new Set(serviceAreas.flatMap((a) => regionPath(a)))],
      version: (existing?.version ?? 0) + 1,
    };
    const event = this.events.create(ProviderUpserted, { key: id, correlationId, payload: { provider: snapshot(id, state) } });
    try {
      if (existing) {
        const res = await this.providers.updateOne({ _id: id, version: existing.version }, withOutbox({ $set: state }, [event]));
        if (res.matchedCount === 0) throw concurrentUpdate();
      } else {
        await this.providers.create({ _id: id, ...state, contracts: [], contractsRevision: 0, ...outboxFields([event]) });
      }
    } catch (error) {
      // The licence check above narrows the race; the unique index closes it.
      if (isDuplicateKeyError(error)) throw licenceTaken();
      throw error;
    }
    this.relay.nudge();
    return toView({ _id: id, ...state, contracts: [], contractsRevision: 0 });
  }

  async get(principal: Principal, providerId: string): Promise<ProviderView> {
    const provider = await this.providers.findOne({ $and: [{ _id: providerId }, providerScopeFilter(principal)] }, { outbox: 0, contracts: 0 }).lean();
    if (!provider) throw notFound('REGISTRY.PROVIDER_NOT_FOUND', 'Provider', '服务机构');
    return toView(provider);
  }

  async list(principal: Principal, query: unknown): Promise<Page<ProviderView>> {
    const q = parseInput(ProviderListQuery, query);
    const filter: Record<string, unknown> = { ...providerScopeFilter(principal) };
    if (q.regionCode) filter['areaPaths'] = { $all: [q.regionCode, ...(principal.regionCode ? [principal.regionCode] : [])] };
    if (q.type) filter['type'] = q.type;
    if (q.active !== undefined) filter['active'] = q.active;
    if (q.offers) filter['offeredItems'] = q.offers;
    const [items, total] = await Promise.all([
      this.providers.find(filter, { outbox: 0, contracts: 0 }).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.providers.countDocuments(filter),
    ]);
    return { items: items.map(toView), page: q.page, pageSize: q.pageSize, total };
  }

  /** Ids of the providers matching a filter that already carries the caller's scope. */
  async visibleIds(filter: Record<string, unknown>): Promise<string[]> {
    return (await this.providers.find(filter, { _id: 1 }).limit(10_000).lean()).map((p) => p._id);
  }

  /**
   * For other features: a provider the caller may see, or a 422 naming the field. A provider the
   * caller cannot see reads as missing, so the answer does not reveal other districts' providers.
   */
  async requireVisible(principal: Principal, providerId: string, field: string): Promise<ProviderRecord> {
    const provider = await this.providers.findOne({ $and: [{ _id: providerId }, providerScopeFilter(principal)] }, { outbox: 0 }).lean();
    if (!provider) {
      throw new AppError('REGISTRY.PROVIDER_NOT_FOUND', 422, `Provider ${providerId} is not registered in your scope`, {
        field,
        messageZh: `服务机构 ${providerId} 不存在或不在您的管辖范围内`,
      });
    }
    return provider;
  }
}

function licenceTaken(): AppError {
  return new AppError('REGISTRY.PROVIDER_LICENCE_TAKEN', 409, 'Another provider holds this licence number', {
    field: 'licenceNumber',
    messageZh: '该许可证号已被其他服务机构登记',
  });
}
