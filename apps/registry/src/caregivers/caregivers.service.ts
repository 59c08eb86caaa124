import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import { CaregiverUpserted, GenderSchema, RegionCodeSchema, WorkerKinds, WorkerKindSchema } from '@yiyang/contracts';
import { h3Cell, regionLevel, regionPath } from '@yiyang/geo';
import { Events, OutboxRelay, outboxFields, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Connection, Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { ItemCode } from '../catalogue/catalogue.service';
import { ChinaLatLng, concurrentUpdate, IsoDate, QueryBool, uniqueList, WeeklySlots } from '../providers/inputs';
import { ProvidersService, servesRegion, type ProviderRecord } from '../providers/providers.service';
import { RegionsService } from '../regions/regions.service';
import { forbidden, notFound, regionScopeFilter } from '../shared/scope';
import { Caregiver } from './caregiver.schema';

export const CaregiverInput = z.object({
  providerId: z.string().min(1),
  kind: WorkerKindSchema,
  name: z.string().trim().min(1).max(60),
  gender: GenderSchema,
  regionCode: RegionCodeSchema.refine((c) => regionLevel(c) === 'COMMUNITY', 'must be a community code'),
  skills: uniqueList(ItemCode, 50).default([]),
  certifications: z
    .array(z.object({ name: z.string().trim().min(1).max(60), number: z.string().trim().min(1).max(40), expiresOn: IsoDate }))
    .max(20)
    .default([]),
  homeBase: ChinaLatLng,
  weeklyAvailability: WeeklySlots.default([]),
  active: z.boolean().default(true),
});

const CaregiverListQuery = PageQuery.extend({
  providerId: z.string().min(1).optional(),
  regionCode: RegionCodeSchema.optional(),
  kind: WorkerKindSchema.optional(),
  active: QueryBool.optional(),
  skill: ItemCode.optional(),
});

type CaregiverRecord = Omit<Caregiver, 'outbox' | 'outboxPending'>;
export interface CaregiverView extends Omit<CaregiverRecord, '_id' | 'regionPath'> {
  caregiverId: string;
  kindLabel: { zh: string; en: string };
}
const toView = ({ _id, regionPath: _path, ...c }: CaregiverRecord): CaregiverView => ({ caregiverId: _id, ...c, kindLabel: WorkerKinds.labels[c.kind] });
const HIDDEN = { outbox: 0, outboxPending: 0 } as const;

/** Bureaus see workers based in their subtree, an operator its own staff, a caregiver themself (by `_id`: combine with `$and`). */
function caregiverScopeFilter(principal: Principal): Record<string, unknown> {
  if (REGION_ROLES.includes(principal.role)) return regionScopeFilter(principal);
  if (principal.role === 'provider_operator' && principal.providerId) return { providerId: principal.providerId };
  if (principal.role === 'caregiver' && principal.caregiverId) return { _id: principal.caregiverId };
  throw forbidden();
}

/** Caregivers, volunteers and social workers — the people who go to the door. */
@Injectable()
export class CaregiversService implements OnModuleInit {
  constructor(
    @InjectModel(Caregiver.name) private readonly caregivers: Model<Caregiver>,
    @InjectConnection() private readonly connection: Connection,
    private readonly regions: RegionsService,
    private readonly providers: ProvidersService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.caregivers.collection);
  }

  async create(principal: Principal, body: unknown, correlationId: string): Promise<CaregiverView> {
    return this.write(principal, undefined, body, correlationId);
  }

  async update(principal: Principal, caregiverId: string, body: unknown, correlationId: string): Promise<CaregiverView> {
    return this.write(principal, caregiverId, body, correlationId);
  }

  private async write(principal: Principal, caregiverId: string | undefined, body: unknown, correlationId: string): Promise<CaregiverView> {
    const input = parseInput(CaregiverInput, body);
    const existing = caregiverId ? await this.caregivers.findOne({ $and: [{ _id: caregiverId }, caregiverScopeFilter(principal)] }, HIDDEN).lean() : null;
    if (caregiverId && !existing) throw notFound('REGISTRY.CAREGIVER_NOT_FOUND', 'Caregiver', '护理人员');
    if (principal.role === 'provider_operator' && input.providerId !== principal.providerId) {
      throw new AppError('AUTH.FORBIDDEN', 403, 'An operator registers workers for its own provider only', {
        field: 'providerId',
        messageZh: '只能登记本机构的护理人员',
      });
    }
    const provider = await this.providers.requireVisible(principal, input.providerId, 'providerId');
    await this.requireBase(principal, provider, input.regionCode);
    const notOffered = input.skills.findIndex((s) => !provider.offeredItems.includes(s));
    if (notOffered >= 0) {
      throw new AppError('REGISTRY.SKILL_NOT_OFFERED', 422, `${input.skills[notOffered]} is not offered by this provider`, {
        field: `skills.${notOffered}`,
        messageZh: `服务机构未提供服务项目 ${input.skills[notOffered]}`,
      });
    }
    const id = caregiverId ?? uuidv7();
    const state = { ...input, regionPath: regionPath(input.regionCode), homeBaseCell: h3Cell(input.homeBase), version: (existing?.version ?? 0) + 1 };
    const { regionPath: _path, ...snapshot } = state;
    const event = this.events.create(CaregiverUpserted, { key: id, correlationId, payload: { caregiver: { caregiverId: id, ...snapshot } } });
    if (existing) {
      const res = await this.caregivers.updateOne({ _id: id, version: existing.version }, withOutbox({ $set: state }, [event]));
      if (res.matchedCount === 0) throw concurrentUpdate();
    } else {
      await this.caregivers.create({ _id: id, ...state, ...outboxFields([event]) });
    }
    this.relay.nudge();
    return toView({ _id: id, ...state });
  }

  /**
   * A bureau places workers inside its own subtree. An operator has no region scope, so its workers
   * must be based where the provider serves — otherwise an operator could plant records anywhere.
   */
  private async requireBase(principal: Principal, provider: ProviderRecord, regionCode: string): Promise<void> {
    if (principal.role !== 'provider_operator') {
      await this.regions.requireInScope(principal, regionCode, 'regionCode');
      return;
    }
    const registered = await this.connection.collection<{ _id: string }>('regions').countDocuments({ _id: regionCode }, { limit: 1 });
    if (!registered || !servesRegion(provider, regionCode)) {
      throw new AppError('REGISTRY.REGION_NOT_FOUND', 422, `Region ${regionCode} is not registered or not served by your provider`, {
        field: 'regionCode',
        messageZh: `区划 ${regionCode} 不存在或不在本机构服务区域内`,
      });
    }
  }

  async get(principal: Principal, caregiverId: string): Promise<CaregiverView> {
    const caregiver = await this.caregivers.findOne({ $and: [{ _id: caregiverId }, caregiverScopeFilter(principal)] }, HIDDEN).lean();
    if (!caregiver) throw notFound('REGISTRY.CAREGIVER_NOT_FOUND', 'Caregiver', '护理人员');
    return toView(caregiver);
  }

  async list(principal: Principal, query: unknown): Promise<Page<CaregiverView>> {
    const q = parseInput(CaregiverListQuery, query);
    const filter: Record<string, unknown> = { ...caregiverScopeFilter(principal) };
    if (q.regionCode) filter['regionPath'] = { $all: [q.regionCode, ...(principal.regionCode ? [principal.regionCode] : [])] };
    if (q.providerId) filter['providerId'] = principal.role === 'provider_operator' ? principal.providerId : q.providerId;
    if (q.kind) filter['kind'] = q.kind;
    if (q.active !== undefined) filter['active'] = q.active;
    if (q.skill) filter['skills'] = q.skill;
    const [items, total] = await Promise.all([
      this.caregivers.find(filter, HIDDEN).sort({ _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).lean(),
      this.caregivers.countDocuments(filter),
    ]);
    return { items: items.map(toView), page: q.page, pageSize: q.pageSize, total };
  }
}
