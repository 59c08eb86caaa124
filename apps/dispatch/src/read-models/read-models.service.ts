import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import {
  CaregiverUpserted,
  CatalogueItemUpserted,
  ElderAssessed,
  ElderCategoriesChanged,
  ElderRegistered,
  ElderStatusChanged,
  ElderUpdated,
  PriceChanged,
  ProviderUpserted,
  ServiceContractUpserted,
  type CaregiverSnapshot,
  type ElderSnapshot,
  type PayloadOf,
} from '@yiyang/contracts';
import { HandleEvent, isDuplicateKeyError } from '@yiyang/messaging';
import { isRegionCode, regionPath } from '@yiyang/geo';
import type { Collection, Connection } from 'mongoose';
import type { z } from 'zod';
import { CaregiverIndex, type CaregiverEntry } from '../matching/domain/caregiver-index';

type Caregiver = z.infer<typeof CaregiverSnapshot>;

/** Dispatch's copy of an elder (event-carried state), plus who has served them (continuity). */
export interface ElderRecord extends Omit<ElderSnapshot, 'elderId'> {
  _id: string;
  servedBy?: string[];
}
export interface ContractRecord {
  _id: string;
  providerId: string;
  regionCode: string;
  validFrom: string;
  validTo: string | null;
  version: number;
}
export interface ProviderRecord {
  _id: string;
  name: string;
  offeredItems: string[];
  serviceAreas: string[];
  active: boolean;
  version: number;
}
export interface CatalogueRecord {
  _id: string;
  nameZh: string;
  nameEn: string;
  category: string;
  unit: string;
  defaultDurationMinutes: number;
  active: boolean;
  version: number;
}
export interface PriceRecord {
  _id: string;
  providerId: string;
  itemCode: string;
  priceFen: number;
  effectiveFrom: string;
  version: number;
}

export function toEntry(c: Caregiver): CaregiverEntry {
  const until = c.certifications.reduce<string | null>((max, cert) => (max === null || cert.expiresOn > max ? cert.expiresOn : max), null);
  return {
    caregiverId: c.caregiverId,
    providerId: c.providerId,
    kind: c.kind,
    name: c.name,
    gender: c.gender,
    regionCode: c.regionCode,
    skills: c.skills,
    certifiedUntil: until,
    home: c.homeBase,
    cell: c.homeBaseCell,
    weeklyAvailability: c.weeklyAvailability,
    active: c.active,
    version: c.version,
  };
}

/**
 * What dispatch knows of the registry, from registry events (design.md: event-carried state
 * transfer). Every record is replaced only by a newer `version` (idempotent under redelivery and
 * replay). Elders live in the database and are read by `_id`; caregivers, providers, contracts and
 * the catalogue are small and also kept in memory — caregivers in an H3 cell index for matching.
 * Memory is rebuilt from the database at boot and refreshed periodically, because with several
 * replicas in one consumer group each replica consumes only some partitions.
 */
@Injectable()
export class ReadModels implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(ReadModels.name);
  readonly caregivers = new CaregiverIndex();
  readonly providers = new Map<string, ProviderRecord>();
  readonly catalogue = new Map<string, CatalogueRecord>();
  /** Contracts by the region (community or street) they cover. */
  private readonly contractsByRegion = new Map<string, Map<string, ContractRecord>>();
  private readonly contracts = new Map<string, ContractRecord>();
  readonly elders: Collection<ElderRecord>;
  private readonly cols: {
    caregivers: Collection<Caregiver & { _id: string }>;
    providers: Collection<ProviderRecord>;
    contracts: Collection<ContractRecord>;
    catalogue: Collection<CatalogueRecord>;
    prices: Collection<PriceRecord>;
  };
  private refresher?: NodeJS.Timeout;
  private readonly scope: string[];

  constructor(
    @InjectConnection() connection: Connection,
    @Inject(ConfigService) private readonly config: ConfigService,
  ) {
    this.scope = String(config.get('DISPATCH_REGION_SCOPE') ?? '').split(',').filter(Boolean);
    this.elders = connection.collection<ElderRecord>('rm_elders') as never;
    this.cols = {
      caregivers: connection.collection('rm_caregivers') as never,
      providers: connection.collection('rm_providers') as never,
      contracts: connection.collection('rm_contracts') as never,
      catalogue: connection.collection('rm_catalogue') as never,
      prices: connection.collection('rm_prices') as never,
    };
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    const every = Number(process.env['DISPATCH_READ_MODEL_REFRESH_MS'] ?? 30_000);
    this.refresher = setInterval(() => void this.reload().catch((err) => this.log.warn({ err }, 'read model refresh failed')), every);
    this.refresher.unref();
  }

  onModuleDestroy(): void {
    if (this.refresher) clearInterval(this.refresher);
  }

  /** Loads the small read models into memory (boot, and periodically for other replicas' partitions). */
  async reload(): Promise<void> {
    const started = Date.now();
    for await (const c of this.cols.caregivers.find({})) this.caregivers.upsert(toEntry(c));
    for await (const p of this.cols.providers.find({})) this.keepNewer(this.providers, p);
    for await (const i of this.cols.catalogue.find({})) this.keepNewer(this.catalogue, i);
    for await (const c of this.cols.contracts.find({})) this.indexContract(c);
    this.log.log(`read models loaded: ${this.caregivers.size} caregivers, ${this.providers.size} providers, ${this.contracts.size} contracts in ${Date.now() - started} ms`);
  }

  private keepNewer<T extends { _id: string; version: number }>(map: Map<string, T>, record: T): void {
    const old = map.get(record._id);
    if (!old || old.version < record.version) map.set(record._id, record);
  }

  private indexContract(c: ContractRecord): void {
    const old = this.contracts.get(c._id);
    if (old && old.version >= c.version) return;
    if (old) this.contractsByRegion.get(old.regionCode)?.delete(old._id);
    this.contracts.set(c._id, c);
    let m = this.contractsByRegion.get(c.regionCode);
    if (!m) this.contractsByRegion.set(c.regionCode, (m = new Map()));
    m.set(c._id, c);
  }

  /** Version-guarded upsert: a stale or repeated snapshot changes nothing. Returns true if stored. */
  private async store<T extends { _id: string; version: number }>(col: Collection<T>, doc: T): Promise<boolean> {
    const { _id, ...rest } = doc;
    try {
      const res = await col.updateOne({ _id, version: { $lt: doc.version } } as never, { $set: rest } as never, { upsert: true });
      return res.modifiedCount + res.upsertedCount > 0;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false; // a same-or-newer version is stored already
      throw error;
    }
  }

  /** Whether this deployment serves some regions only (DISPATCH_REGION_SCOPE set). */
  get scoped(): boolean {
    return this.scope.length > 0;
  }

  /** Whether a region is served by this deployment (DISPATCH_REGION_SCOPE). */
  serves(regionCode: string): boolean {
    if (this.scope.length === 0) return true;
    if (!isRegionCode(regionCode)) return false;
    const path = regionPath(regionCode);
    return this.scope.some((root) => path.includes(root) || (isRegionCode(root) && regionPath(root).includes(regionCode)));
  }

  // ── registry events ──

  private async storeElder(elder: ElderSnapshot): Promise<void> {
    if (!this.serves(elder.regionCode)) return;
    const { elderId, ...rest } = elder;
    await this.store(this.elders as never, { _id: elderId, ...rest });
  }

  @HandleEvent(ElderRegistered, { group: 'read-models' })
  async onElderRegistered(p: PayloadOf<typeof ElderRegistered>): Promise<void> {
    await this.storeElder(p.elder);
  }
  @HandleEvent(ElderUpdated, { group: 'read-models' })
  async onElderUpdated(p: PayloadOf<typeof ElderUpdated>): Promise<void> {
    await this.storeElder(p.elder);
  }
  @HandleEvent(ElderAssessed, { group: 'read-models' })
  async onElderAssessed(p: PayloadOf<typeof ElderAssessed>): Promise<void> {
    await this.storeElder(p.elder);
  }
  @HandleEvent(ElderCategoriesChanged, { group: 'read-models' })
  async onElderCategories(p: PayloadOf<typeof ElderCategoriesChanged>): Promise<void> {
    await this.storeElder(p.elder);
  }
  @HandleEvent(ElderStatusChanged, { group: 'read-models' })
  async onElderStatus(p: PayloadOf<typeof ElderStatusChanged>): Promise<void> {
    await this.storeElder(p.elder);
  }

  @HandleEvent(CaregiverUpserted, { group: 'read-models' })
  async onCaregiver(p: PayloadOf<typeof CaregiverUpserted>): Promise<void> {
    if (!this.serves(p.caregiver.regionCode)) return;
    await this.store(this.cols.caregivers, { _id: p.caregiver.caregiverId, ...p.caregiver });
    this.caregivers.upsert(toEntry(p.caregiver));
  }

  @HandleEvent(ProviderUpserted, { group: 'read-models' })
  async onProvider(p: PayloadOf<typeof ProviderUpserted>): Promise<void> {
    const { providerId, name, offeredItems, serviceAreas, active, version } = p.provider;
    if (!serviceAreas.some((a) => this.serves(a))) return;
    const record = { _id: providerId, name, offeredItems, serviceAreas, active, version };
    await this.store(this.cols.providers, record);
    this.keepNewer(this.providers, record);
  }

  @HandleEvent(ServiceContractUpserted, { group: 'read-models' })
  async onContract(p: PayloadOf<typeof ServiceContractUpserted>): Promise<void> {
    const { contractId, providerId, regionCode, validFrom, validTo, version } = p.contract;
    if (!this.serves(regionCode)) return;
    const record = { _id: contractId, providerId, regionCode, validFrom, validTo, version };
    await this.store(this.cols.contracts, record);
    this.indexContract(record);
  }

  @HandleEvent(CatalogueItemUpserted, { group: 'read-models' })
  async onCatalogueItem(p: PayloadOf<typeof CatalogueItemUpserted>): Promise<void> {
    const { code, ...rest } = p.item;
    const record = { _id: code, ...rest };
    await this.store(this.cols.catalogue, record);
    this.keepNewer(this.catalogue, record);
  }

  @HandleEvent(PriceChanged, { group: 'read-models' })
  async onPrice(p: PayloadOf<typeof PriceChanged>): Promise<void> {
    const { providerId, itemCode } = p.price;
    await this.store(this.cols.prices, { _id: `${providerId}:${itemCode}`, ...p.price });
  }

  // ── queries ──

  async elder(elderId: string): Promise<ElderRecord | null> {
    return this.elders.findOne({ _id: elderId });
  }

  /** Providers whose contract covers the elder's community (or street) on `date`. */
  contractedProviders(regionPath: readonly string[], date: string): string[] {
    const ids = new Set<string>();
    for (const code of regionPath) {
      for (const c of this.contractsByRegion.get(code)?.values() ?? []) {
        if (c.validFrom <= date && (c.validTo === null || c.validTo >= date)) ids.add(c.providerId);
      }
    }
    return [...ids];
  }

  /** Contracted providers that are active and offer the item. */
  eligibleProviders(regionPath: readonly string[], date: string, itemCode: string): Set<string> {
    return new Set(
      this.contractedProviders(regionPath, date).filter((id) => {
        const p = this.providers.get(id);
        return p !== undefined && p.active && p.offeredItems.includes(itemCode);
      }),
    );
  }

  matchRadius(): number {
    return Number(this.config.get('DISPATCH_MATCH_RADIUS_METERS'));
  }
}
