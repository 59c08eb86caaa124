import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { CatalogueItemUpserted, ServiceCategories, ServiceCategorySchema, ServiceUnitSchema, ServiceUnits } from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { concurrentUpdate, QueryBool } from '../providers/inputs';
import { CatalogueItem } from './catalogue-item.schema';
import { CATALOGUE_SEED } from './seed';

export const ItemCode = z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/, 'must be an UPPER_SNAKE item code');

export const CatalogueItemInput = z.object({
  code: ItemCode,
  nameZh: z.string().trim().min(1).max(60),
  nameEn: z.string().trim().min(1).max(120),
  category: ServiceCategorySchema,
  unit: ServiceUnitSchema,
  defaultDurationMinutes: z.number().int().min(5).max(1_440),
  active: z.boolean().default(true),
});

const ItemListQuery = PageQuery.extend({ category: ServiceCategorySchema.optional(), active: QueryBool.optional() });

export interface CatalogueItemView {
  code: string;
  nameZh: string;
  nameEn: string;
  category: CatalogueItem['category'];
  categoryLabel: { zh: string; en: string };
  unit: CatalogueItem['unit'];
  unitLabel: { zh: string; en: string };
  defaultDurationMinutes: number;
  active: boolean;
  version: number;
}

const toView = (i: Omit<CatalogueItem, 'outbox' | 'outboxPending'>): CatalogueItemView => ({
  code: i._id,
  nameZh: i.nameZh,
  nameEn: i.nameEn,
  category: i.category,
  categoryLabel: ServiceCategories.labels[i.category],
  unit: i.unit,
  unitLabel: ServiceUnits.labels[i.unit],
  defaultDurationMinutes: i.defaultDurationMinutes,
  active: i.active,
  version: i.version,
});

/**
 * The service menu. It is platform-wide, not region-owned: every district orders from the same codes,
 * so billing policies and dispatch skills mean the same thing everywhere. Reads are open to every
 * signed-in role (elders and families order from it); writes are for civil-affairs admins.
 */
@Injectable()
export class CatalogueService implements OnModuleInit {
  constructor(
    @InjectModel(CatalogueItem.name) private readonly items: Model<CatalogueItem>,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.items.collection);
  }

  async upsert(body: unknown, correlationId: string): Promise<CatalogueItemView> {
    const input = parseInput(CatalogueItemInput, body);
    const existing = await this.items.findById(input.code).lean();
    const { code, ...fields } = input;
    const state = { ...fields, version: (existing?.version ?? 0) + 1 };
    const event = this.events.create(CatalogueItemUpserted, { key: code, correlationId, payload: { item: { code, ...state } } });
    if (existing) {
      const res = await this.items.updateOne({ _id: code, version: existing.version }, withOutbox({ $set: state }, [event]));
      if (res.matchedCount === 0) throw concurrentUpdate();
    } else {
      try {
        await this.items.create({ _id: code, ...state, ...outboxFields([event]) });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw concurrentUpdate();
        throw error;
      }
    }
    this.relay.nudge();
    return toView({ _id: code, ...state });
  }

  /**
   * Inserts the starter menu's missing items and leaves existing ones alone — an admin may have
   * renamed or retired one, and a re-run must not undo that. Safe to call any number of times.
   */
  async seed(correlationId: string): Promise<{ created: string[]; unchanged: string[] }> {
    const present = new Set((await this.items.find({ _id: { $in: CATALOGUE_SEED.map((i) => i.code) } }, { _id: 1 }).lean()).map((i) => i._id));
    const created: string[] = [];
    for (const item of CATALOGUE_SEED) {
      if (present.has(item.code)) continue;
      const { code, ...fields } = item;
      const state = { ...fields, active: true, version: 1 };
      const event = this.events.create(CatalogueItemUpserted, { key: code, correlationId, payload: { item: { code, ...state } } });
      try {
        await this.items.create({ _id: code, ...state, ...outboxFields([event]) });
        created.push(code);
      } catch (error) {
        // A concurrent seed inserted it first: the item is there, which is all a seed promises.
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    this.relay.nudge();
    return { created, unchanged: CATALOGUE_SEED.map((i) => i.code).filter((c) => !created.includes(c)) };
  }

  async get(code: string): Promise<CatalogueItemView> {
    const item = await this.items.findById(code).lean();
    if (!item) throw new AppError('REGISTRY.CATALOGUE_ITEM_NOT_FOUND', 404, 'Catalogue item not found', { messageZh: '未找到服务项目' });
    return toView(item);
  }

  async list(query: unknown): Promise<Page<CatalogueItemView>> {
    const q = parseInput(ItemListQuery, query);
    const filter = { ...(q.category ? { category: q.category } : {}), ...(q.active !== undefined ? { active: q.active } : {}) };
    const [items, total] = await Promise.all([
      this.items.find(filter, { outbox: 0 }).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.items.countDocuments(filter),
    ]);
    return { items: items.map(toView), page: q.page, pageSize: q.pageSize, total };
  }

  /** For other features: every code must name an active item; the first that does not is the 422's field. */
  async requireActive(codes: readonly string[], fieldPrefix: string): Promise<void> {
    if (codes.length === 0) return;
    const active = new Set((await this.items.find({ _id: { $in: [...codes] }, active: true }, { _id: 1 }).lean()).map((i) => i._id));
    const index = codes.findIndex((c) => !active.has(c));
    if (index >= 0) {
      throw new AppError('REGISTRY.CATALOGUE_ITEM_UNKNOWN', 422, `Catalogue item ${codes[index]} does not exist or is retired`, {
        field: `${fieldPrefix}.${index}`,
        messageZh: `服务项目 ${codes[index]} 不存在或已停用`,
      });
    }
  }
}
