import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import { FamilyCareBedUpserted, RegionCodeSchema } from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Connection, Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { concurrentUpdate, IsoDate, QueryBool, uniqueList } from '../providers/inputs';
import { ProvidersService } from '../providers/providers.service';
import { forbidden, notFound, regionScopeFilter } from '../shared/scope';
import { FamilyCareBed } from './family-care-bed.schema';

const BedFields = z.object({
  providerId: z.string().min(1).nullable().default(null),
  deviceIds: uniqueList(z.string().trim().min(1).max(64), 50).default([]),
  since: IsoDate,
  active: z.boolean().default(true),
});
const CreateBedInput = BedFields.extend({ elderId: z.string().min(1).max(64) });

const BedListQuery = PageQuery.extend({
  regionCode: RegionCodeSchema.optional(),
  providerId: z.string().min(1).optional(),
  active: QueryBool.optional(),
});

type BedRecord = Omit<FamilyCareBed, 'outbox' | 'outboxPending'>;
export interface FamilyCareBedView extends Omit<BedRecord, '_id' | 'regionPath'> {
  bedId: string;
}
const toView = ({ _id, regionPath: _path, ...b }: BedRecord): FamilyCareBedView => ({ bedId: _id, ...b });
const HIDDEN = { outbox: 0, outboxPending: 0 } as const;

/** The fields of another slice's `elders` documents this slice relies on (read, never written). */
interface ElderRef {
  _id: string;
  regionPath: string[];
  status: string;
}

function bedScopeFilter(principal: Principal): Record<string, unknown> {
  if (REGION_ROLES.includes(principal.role)) return regionScopeFilter(principal);
  if (principal.role === 'provider_operator' && principal.providerId) return { providerId: principal.providerId };
  throw forbidden();
}

@Injectable()
export class FamilyCareBedsService implements OnModuleInit {
  constructor(
    @InjectModel(FamilyCareBed.name) private readonly beds: Model<FamilyCareBed>,
    @InjectConnection() private readonly connection: Connection,
    private readonly providers: ProvidersService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.beds.collection);
  }

  async create(principal: Principal, body: unknown, correlationId: string): Promise<FamilyCareBedView> {
    const input = parseInput(CreateBedInput, body);
    const elder = await this.requireElder(principal, input.elderId);
    if (elder.status !== 'ACTIVE') {
      throw new AppError('REGISTRY.ELDER_NOT_ACTIVE', 422, `Elder ${input.elderId} is not active (${elder.status})`, {
        field: 'elderId',
        messageZh: '该老人不在册，不能设立家庭养老床位',
      });
    }
    if (await this.beds.exists({ elderId: input.elderId })) throw bedExists();
    if (input.providerId) await this.providers.requireVisible(principal, input.providerId, 'providerId');
    const id = uuidv7();
    const state = { ...input, ...placeOf(elder), version: 1 };
    const event = this.event(id, state, correlationId);
    try {
      await this.beds.create({ _id: id, ...state, ...outboxFields([event]) });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw bedExists();
      throw error;
    }
    this.relay.nudge();
    return toView({ _id: id, ...state });
  }

  /** Changes provider, devices, dates or retires the bed. The elder stays; their community is refreshed. */
  async update(principal: Principal, bedId: string, body: unknown, correlationId: string): Promise<FamilyCareBedView> {
    const input = parseInput(BedFields, body);
    const existing = await this.beds.findOne({ _id: bedId, ...regionScopeFilter(principal) }, HIDDEN).lean();
    if (!existing) throw notFound('REGISTRY.FAMILY_BED_NOT_FOUND', 'Family care bed', '家庭养老床位');
    if (input.providerId) await this.providers.requireVisible(principal, input.providerId, 'providerId');
    // The elder may have moved within the district since; follow them if they are still ours.
    const elder = await this.elders().findOne({ _id: existing.elderId, regionPath: principal.regionCode });
    const place = elder ? placeOf(elder) : { regionCode: existing.regionCode, regionPath: existing.regionPath };
    const state = { ...input, elderId: existing.elderId, ...place, version: existing.version + 1 };
    const res = await this.beds.updateOne({ _id: bedId, version: existing.version }, withOutbox({ $set: state }, [this.event(bedId, state, correlationId)]));
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.relay.nudge();
    return toView({ _id: bedId, ...state });
  }

  async get(principal: Principal, bedId: string): Promise<FamilyCareBedView> {
    const bed = await this.beds.findOne({ _id: bedId, ...bedScopeFilter(principal) }, HIDDEN).lean();
    if (!bed) throw notFound('REGISTRY.FAMILY_BED_NOT_FOUND', 'Family care bed', '家庭养老床位');
    return toView(bed);
  }

  async list(principal: Principal, query: unknown): Promise<Page<FamilyCareBedView>> {
    const q = parseInput(BedListQuery, query);
    const filter: Record<string, unknown> = { ...bedScopeFilter(principal) };
    if (q.regionCode) filter['regionPath'] = { $all: [q.regionCode, ...(principal.regionCode ? [principal.regionCode] : [])] };
    if (q.providerId) filter['providerId'] = principal.role === 'provider_operator' ? principal.providerId : q.providerId;
    if (q.active !== undefined) filter['active'] = q.active;
    const [items, total] = await Promise.all([
      this.beds.find(filter, HIDDEN).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.beds.countDocuments(filter),
    ]);
    return { items: items.map(toView), page: q.page, pageSize: q.pageSize, total };
  }

  private elders() {
    return this.connection.collection<ElderRef>('elders');
  }

  /** An elder outside the caller's subtree reads as missing (422, nothing learned). */
  private async requireElder(principal: Principal, elderId: string): Promise<ElderRef> {
    const elder = await this.elders().findOne({ _id: elderId, ...regionScopeFilter(principal) });
    if (!elder) {
      throw new AppError('REGISTRY.ELDER_NOT_FOUND', 422, `Elder ${elderId} is not registered in your scope`, {
        field: 'elderId',
        messageZh: `老人 ${elderId} 不存在或不在您的管辖范围内`,
      });
    }
    return elder;
  }

  private event(bedId: string, state: Omit<BedRecord, '_id'>, correlationId: string) {
    return this.events.create(FamilyCareBedUpserted, {
      key: bedId,
      correlationId,
      payload: {
        bed: {
          bedId,
          elderId: state.elderId,
          regionCode: state.regionCode,
          providerId: state.providerId,
          deviceIds: state.deviceIds,
          since: state.since,
          active: state.active,
          version: state.version,
        },
      },
    });
  }
}

/** The elder's community is the last, deepest code on their path. */
function placeOf(elder: ElderRef): { regionCode: string; regionPath: string[] } {
  return { regionCode: elder.regionPath[elder.regionPath.length - 1], regionPath: elder.regionPath };
}

function bedExists(): AppError {
  return new AppError('REGISTRY.FAMILY_BED_EXISTS', 409, 'This elder already has a family care bed; update it instead', {
    field: 'elderId',
    messageZh: '该老人已设立家庭养老床位，请修改现有记录',
  });
}
