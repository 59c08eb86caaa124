import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { FenSchema, PriceChanged } from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { concurrentUpdate, IsoDate, todayInChina } from '../providers/inputs';
import { providerScopeFilter, ProvidersService } from '../providers/providers.service';
import { notFound } from '../shared/scope';
import { CatalogueService, ItemCode } from './catalogue.service';
import { PriceList, type PriceEntry } from './price-list.schema';

const PriceInput = z.object({
  /** Integer fen (分): 35 yuan is 3500. */
  priceFen: FenSchema.max(100_000_000),
  effectiveFrom: IsoDate,
});

const PriceListQuery = PageQuery.extend({
  providerId: z.string().min(1).optional(),
  itemCode: ItemCode.optional(),
  /** The date whose prices to show; today (China time) by default. */
  on: IsoDate.optional(),
});

export interface PriceView {
  providerId: string;
  itemCode: string;
  /** The price in force on the requested date; null when only future prices are set. */
  current: { priceFen: number; effectiveFrom: string } | null;
  history: { priceFen: number; effectiveFrom: string; recordedAt: string }[];
  version: number;
}

/**
 * The price in force on `date`: the entry with the latest effectiveFrom not after it, and among
 * entries for the same day the one recorded last (a correction supersedes, the original stays).
 */
export function priceOn(entries: readonly PriceEntry[], date: string): PriceEntry | undefined {
  let best: PriceEntry | undefined;
  for (const e of entries) {
    if (e.effectiveFrom > date) continue;
    if (!best || e.effectiveFrom > best.effectiveFrom || (e.effectiveFrom === best.effectiveFrom && e.recordedAt >= best.recordedAt)) best = e;
  }
  return best;
}

const toView = (p: Pick<PriceList, 'providerId' | 'itemCode' | 'entries' | 'version'>, on: string): PriceView => {
  const current = priceOn(p.entries, on);
  return {
    providerId: p.providerId,
    itemCode: p.itemCode,
    current: current ? { priceFen: current.priceFen, effectiveFrom: current.effectiveFrom } : null,
    history: p.entries.map((e) => ({ priceFen: e.priceFen, effectiveFrom: e.effectiveFrom, recordedAt: new Date(e.recordedAt).toISOString() })),
    version: p.version,
  };
};

/** Each provider's price list for the items it offers, in integer fen, with its full history. */
@Injectable()
export class PricesService implements OnModuleInit {
  constructor(
    @InjectModel(PriceList.name) private readonly prices: Model<PriceList>,
    private readonly providers: ProvidersService,
    private readonly catalogue: CatalogueService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.prices.collection);
  }

  /**
   * Adds a price from a date on. Never rewrites the past: a settlement already computed against
   * yesterday's price must still be reproducible, so effectiveFrom may not lie before today.
   */
  async setPrice(principal: Principal, providerId: string, itemCode: string, body: unknown, correlationId: string): Promise<PriceView> {
    const input = parseInput(PriceInput, body);
    const today = todayInChina();
    if (input.effectiveFrom < today) {
      throw new AppError('REGISTRY.PRICE_BACKDATED', 400, `effectiveFrom: must be today (${today}) or later`, {
        field: 'effectiveFrom',
        messageZh: `生效日期不能早于今天（${today}）`,
      });
    }
    // The provider is in the path, not the body: one outside the caller's scope is a plain 404.
    const provider = await this.providers.requireVisible(principal, providerId, 'providerId').catch((error: unknown) => {
      throw error instanceof AppError ? notFound('REGISTRY.PROVIDER_NOT_FOUND', 'Provider', '服务机构') : error;
    });
    if (!provider.offeredItems.includes(itemCode)) {
      throw new AppError('REGISTRY.ITEM_NOT_OFFERED', 422, `${itemCode} is not offered by this provider`, {
        field: 'itemCode',
        messageZh: `服务机构未提供服务项目 ${itemCode}`,
      });
    }
    await this.catalogue.requireActive([itemCode], 'itemCode').catch((error: unknown) => {
      throw error instanceof AppError
        ? new AppError(error.code, error.status, error.message, { ...error.options, field: 'itemCode' })
        : error;
    });

    const id = `${providerId}:${itemCode}`;
    const existing = await this.prices.findById(id, { outbox: 0 }).lean();
    const entry: PriceEntry = { ...input, recordedAt: new Date(), recordedBy: principal.userId };
    const version = (existing?.version ?? 0) + 1;
    const event = this.events.create(PriceChanged, { key: itemCode, correlationId, payload: { price: { providerId, itemCode, ...input, version } } });
    if (existing) {
      const res = await this.prices.updateOne({ _id: id, version: existing.version }, withOutbox({ $set: { version }, $push: { entries: entry } }, [event]));
      if (res.matchedCount === 0) throw concurrentUpdate();
    } else {
      try {
        await this.prices.create({ _id: id, providerId, itemCode, entries: [entry], version, ...outboxFields([event]) });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw concurrentUpdate();
        throw error;
      }
    }
    this.relay.nudge();
    return toView({ providerId, itemCode, entries: [...(existing?.entries ?? []), entry], version }, today);
  }

  async list(principal: Principal, query: unknown): Promise<Page<PriceView>> {
    const q = parseInput(PriceListQuery, query);
    // Prices are as visible as their provider: find the providers first, under the caller's scope.
    const providerFilter: Record<string, unknown> = { ...providerScopeFilter(principal) };
    if (q.providerId) providerFilter['_id'] = principal.role === 'provider_operator' ? principal.providerId : q.providerId;
    const visible = await this.providers.visibleIds(providerFilter);
    const filter: Record<string, unknown> = { providerId: { $in: visible } };
    if (q.itemCode) filter['itemCode'] = q.itemCode;
    const [items, total] = await Promise.all([
      this.prices.find(filter, { outbox: 0 }).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.prices.countDocuments(filter),
    ]);
    const on = q.on ?? todayInChina();
    return { items: items.map((p) => toView(p, on)), page: q.page, pageSize: q.pageSize, total };
  }
}
