import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { RegionUpserted } from '@yiyang/contracts';
import { parentRegion, regionLevel, regionPath, regionWithin } from '@yiyang/geo';
import { Events, OutboxRelay, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, type Principal } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { assertRegionInScope, notFound, regionScopeFilter } from '../shared/scope';
import { Region } from './region.schema';

export const RegionInput = z.object({
  code: z.string().regex(/^\d{12}$/, 'must be a 12-digit region code'),
  name: z.string().trim().min(1).max(60),
  centre: z.object({ lat: z.number().min(3).max(54), lng: z.number().min(73).max(136) }),
});
export type RegionInput = z.infer<typeof RegionInput>;

export type RegionView = Pick<Region, 'name' | 'level' | 'parentCode' | 'regionPath' | 'centre' | 'version'> & { code: string };

const toView = (r: Region): RegionView => ({
  code: r._id,
  name: r.name,
  level: r.level,
  parentCode: r.parentCode,
  regionPath: r.regionPath,
  centre: r.centre,
  version: r.version,
});

@Injectable()
export class RegionsService implements OnModuleInit {
  constructor(
    @InjectModel(Region.name) private readonly regions: Model<Region>,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.regions.collection);
  }

  /**
   * Creates or renames a region. Its parent must exist first (county → street → community), and
   * the caller may only shape the tree inside their own subtree.
   */
  async upsert(principal: Principal, body: unknown, correlationId: string): Promise<RegionView> {
    const input = parseInput(RegionInput, body);
    const level = regionLevel(input.code);
    if (!level) throw new AppError('REGISTRY.REGION_CODE_INVALID', 400, 'Not a valid division code', { field: 'code', messageZh: '区划代码无效' });
    const path = regionPath(input.code);
    // A county admin may add streets and communities below the county, not the county's siblings.
    assertRegionInScope(principal, path.length > 1 ? path : [input.code]);
    const parent = parentRegion(input.code);
    if (parent && level !== 'CITY' && level !== 'COUNTY' && !(await this.regions.exists({ _id: parent }))) {
      throw new AppError('REGISTRY.REGION_PARENT_MISSING', 422, `Parent region ${parent} is not registered`, {
        field: 'code',
        messageZh: `上级区划 ${parent} 尚未登记`,
      });
    }
    const existing = await this.regions.findById(input.code).lean();
    const version = (existing?.version ?? 0) + 1;
    const state = { name: input.name, level, parentCode: parent ?? null, regionPath: path, centre: input.centre, version };
    const event = this.events.create(RegionUpserted, {
      key: input.code,
      correlationId,
      payload: { region: { code: input.code, name: state.name, level, parentCode: state.parentCode, centre: state.centre, version } },
    });
    if (existing) {
      // Version guard: a concurrent edit makes this match nothing, and the caller retries.
      const res = await this.regions.updateOne({ _id: input.code, version: existing.version }, withOutbox({ $set: state }, [event]));
      if (res.matchedCount === 0) throw new AppError('REGISTRY.CONCURRENT_UPDATE', 409, 'Region changed meanwhile; retry', { messageZh: '数据已被修改，请重试' });
    } else {
      await this.regions.create({ _id: input.code, ...state, ...outboxFields([event]) });
    }
    this.relay.nudge();
    return toView({ _id: input.code, ...state } as Region);
  }

  async get(principal: Principal, code: string): Promise<RegionView> {
    const region = await this.regions.findOne({ _id: code, ...regionScopeFilter(principal) }).lean();
    if (!region) throw notFound('REGISTRY.REGION_NOT_FOUND', 'Region', '区划');
    return toView(region);
  }

  /** The subtree below the caller's root (or below `parentCode` within it). */
  async list(principal: Principal, parentCode?: string): Promise<RegionView[]> {
    const filter = { ...regionScopeFilter(principal), ...(parentCode ? { parentCode } : {}) };
    const regions = await this.regions.find(filter).sort({ _id: 1 }).limit(5_000).lean();
    return regions.map(toView);
  }

  /** For other features: a region that must exist and lie inside the caller's scope. */
  async requireInScope(principal: Principal, code: string, field: string): Promise<RegionView> {
    const region = await this.regions.findById(code).lean();
    if (!region || !regionWithin(code, principal.regionCode ?? '-')) {
      throw new AppError('REGISTRY.REGION_NOT_FOUND', 422, `Region ${code} is not registered in your scope`, {
        field,
        messageZh: `区划 ${code} 不存在或不在您的管辖范围内`,
      });
    }
    return toView(region);
  }
}
