import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { RegionCodeSchema, ServiceContractUpserted } from '@yiyang/contracts';
import { regionLevel, regionWithin } from '@yiyang/geo';
import { Events, OutboxRelay, withOutbox } from '@yiyang/messaging';
import { AppError, parseInput, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { FacilitiesService } from '../facilities/facilities.service';
import { RegionsService } from '../regions/regions.service';
import { notFound } from '../shared/scope';
import { concurrentUpdate, IsoDate } from './inputs';
import { Provider, type ServiceContractEntry } from './provider.schema';
import { providerScopeFilter, servesRegion } from './providers.service';

export const ContractInput = z
  .object({
    regionCode: RegionCodeSchema.refine((c) => ['STREET', 'COMMUNITY'].includes(regionLevel(c) ?? ''), 'must be a street or community code'),
    facilityId: z.string().min(1).nullable().default(null),
    validFrom: IsoDate,
    validTo: IsoDate.nullable().default(null),
  })
  .refine((c) => c.validTo === null || c.validTo >= c.validFrom, { path: ['validTo'], message: 'must not be before validFrom' });

const ContractListQuery = PageQuery.extend({
  providerId: z.string().min(1).optional(),
  regionCode: RegionCodeSchema.optional(),
  /** Only contracts in force on this date. */
  activeOn: IsoDate.optional(),
});

export interface ContractView {
  contractId: string;
  providerId: string;
  regionCode: string;
  facilityId: string | null;
  validFrom: string;
  validTo: string | null;
  version: number;
}

const toView = (providerId: string, { regionPath: _path, ...c }: ServiceContractEntry): ContractView => ({ ...c, providerId });

/** Two date ranges (inclusive, `null` = open-ended) share at least one day. */
function overlaps(a: { validFrom: string; validTo: string | null }, b: { validFrom: string; validTo: string | null }): boolean {
  return (a.validTo === null || b.validFrom <= a.validTo) && (b.validTo === null || a.validFrom <= b.validTo);
}

/** Government purchase-of-service contracts: which provider serves (and which station it runs in) which community or street. */
@Injectable()
export class ContractsService {
  constructor(
    @InjectModel(Provider.name) private readonly providers: Model<Provider>,
    private readonly regions: RegionsService,
    private readonly facilities: FacilitiesService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {}

  async upsert(principal: Principal, providerId: string, contractId: string | undefined, body: unknown, correlationId: string): Promise<ContractView> {
    const input = parseInput(ContractInput, body);
    const provider = await this.providers.findOne({ $and: [{ _id: providerId }, providerScopeFilter(principal)] }, { outbox: 0 }).lean();
    if (!provider) throw notFound('REGISTRY.PROVIDER_NOT_FOUND', 'Provider', '服务机构');
    const previous = contractId ? provider.contracts.find((c) => c.contractId === contractId) : undefined;
    // A contract in another bureau's region is as invisible as a missing one.
    if (contractId && (!previous || !regionWithin(previous.regionCode, principal.regionCode ?? '-'))) {
      throw notFound('REGISTRY.CONTRACT_NOT_FOUND', 'Service contract', '服务合同');
    }
    const region = await this.regions.requireInScope(principal, input.regionCode, 'regionCode');
    if (!servesRegion(provider, input.regionCode)) {
      throw new AppError('REGISTRY.CONTRACT_REGION_NOT_SERVED', 422, `Provider does not serve ${input.regionCode}; add it to serviceAreas first`, {
        field: 'regionCode',
        messageZh: '该区划不在服务机构的服务区域内，请先添加服务区域',
      });
    }
    if (input.facilityId) {
      const facility = await this.facilities.requireVisible(principal, input.facilityId, 'facilityId');
      if (!facility.regionPath.includes(input.regionCode) || (facility.providerId !== null && facility.providerId !== providerId)) {
        throw new AppError('REGISTRY.CONTRACT_FACILITY_MISMATCH', 422, 'The facility must lie in the contract region and not be run by another provider', {
          field: 'facilityId',
          messageZh: '设施须位于合同区域内，且不由其他服务机构运营',
        });
      }
    }
    const id = contractId ?? uuidv7();
    const clash = provider.contracts.find((c) => c.contractId !== id && c.regionCode === input.regionCode && overlaps(c, input));
    if (clash) {
      throw new AppError('REGISTRY.CONTRACT_OVERLAP', 409, `Overlaps contract ${clash.contractId} (${clash.validFrom} – ${clash.validTo ?? 'open'})`, {
        field: 'validFrom',
        messageZh: `与现有合同（${clash.validFrom} 至 ${clash.validTo ?? '长期'}）时间重叠`,
        details: { contractId: clash.contractId },
      });
    }
    const contract: ServiceContractEntry = { contractId: id, ...input, regionPath: region.regionPath, version: (previous?.version ?? 0) + 1 };
    const contracts = previous ? provider.contracts.map((c) => (c.contractId === id ? contract : c)) : [...provider.contracts, contract];
    const event = this.events.create(ServiceContractUpserted, { key: providerId, correlationId, payload: { contract: toView(providerId, contract) } });
    // The revision guard makes the overlap check and the write one atomic step: a concurrent
    // contract for this provider makes this match nothing instead of slipping an overlap in.
    const res = await this.providers.updateOne(
      { _id: providerId, contractsRevision: provider.contractsRevision },
      withOutbox({ $set: { contracts, contractsRevision: provider.contractsRevision + 1 } }, [event]),
    );
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.relay.nudge();
    return toView(providerId, contract);
  }

  /**
   * Contracts visible to the caller: a bureau sees those in its subtree, an operator its own. Filtered
   * in code after an indexed fetch of the providers concerned — a district has tens of providers with
   * a handful of contracts each, far below where a paged aggregation would pay off.
   */
  async list(principal: Principal, query: unknown): Promise<Page<ContractView>> {
    const q = parseInput(ContractListQuery, query);
    const scope = principal.role === 'provider_operator' ? undefined : principal.regionCode;
    const filter: Record<string, unknown> = { ...providerScopeFilter(principal) };
    if (q.providerId) filter['_id'] = principal.role === 'provider_operator' ? principal.providerId : q.providerId;
    const within = [scope, q.regionCode].filter((c): c is string => Boolean(c));
    if (within.length) filter['contracts.regionPath'] = { $all: within };
    const providers = await this.providers.find(filter, { contracts: 1 }).sort({ _id: 1 }).lean();
    const all = providers
      .flatMap((p) => p.contracts.map((c) => ({ p: p._id, c })))
      .filter(({ c }) => within.every((code) => c.regionPath.includes(code)))
      .filter(({ c }) => !q.activeOn || (c.validFrom <= q.activeOn && (c.validTo === null || q.activeOn <= c.validTo)))
      .sort((a, b) => a.c.regionCode.localeCompare(b.c.regionCode) || a.c.validFrom.localeCompare(b.c.validFrom));
    const start = (q.page - 1) * q.pageSize;
    return { items: all.slice(start, start + q.pageSize).map(({ p, c }) => toView(p, c)), page: q.page, pageSize: q.pageSize, total: all.length };
  }
}
