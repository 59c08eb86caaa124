import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import {
  ElderAssessed,
  ElderCategoriesChanged,
  ElderRegistered,
  ElderStatusChanged,
  ElderUpdated,
  FacilityUpserted,
  RegionUpserted,
  type ElderSnapshot,
  type PayloadOf,
} from '@yiyang/contracts';
import { HandleEvent, isDuplicateKeyError } from '@yiyang/messaging';
import type { Model } from 'mongoose';
import { ElderFact, FacilityFact, RegionFact } from './registry-facts.schema';

export type ElderInfo = Omit<ElderFact, 'updatedAt'>;
export type FacilityInfo = Omit<FacilityFact, 'updatedAt'>;

/**
 * Monitoring's read model of the registry (event-carried state transfer): elders and facilities a
 * device can be bound to, and region names for the dashboards. Stored (replace-if-newer by version,
 * idempotent under redelivery) and mirrored in memory, because the rule engine asks "does this
 * elder live alone?" for readings at stream speed. Replicas that did not consume an event pick the
 * change up from the database on their next refresh.
 */
@Injectable()
export class RegistryFacts implements OnModuleInit, OnApplicationShutdown {
  private readonly elders = new Map<string, ElderInfo>();
  private readonly facilities = new Map<string, FacilityInfo>();
  private readonly regions = new Map<string, { name: string; level: string; parentCode: string | null }>();
  private refreshedUntil = new Date(0);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectModel(ElderFact.name) private readonly elderFacts: Model<ElderFact>,
    @InjectModel(FacilityFact.name) private readonly facilityFacts: Model<FacilityFact>,
    @InjectModel(RegionFact.name) private readonly regionFacts: Model<RegionFact>,
    @Inject(ConfigService) private readonly config: ConfigService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    const every = Number(this.config.get('DIRECTORY_REFRESH_MS'));
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), every);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  elder(elderId: string): ElderInfo | undefined {
    return this.elders.get(elderId);
  }

  facility(facilityId: string): FacilityInfo | undefined {
    return this.facilities.get(facilityId);
  }

  regionName(code: string): string | undefined {
    return this.regions.get(code)?.name;
  }

  livesAlone(elderId: string): boolean {
    return this.elders.get(elderId)?.categories.includes('LIVING_ALONE') ?? false;
  }

  /** Every elder in memory (coverage figures count them by region). */
  allElders(): IterableIterator<ElderInfo> {
    return this.elders.values();
  }

  allFacilities(): IterableIterator<FacilityInfo> {
    return this.facilities.values();
  }

  /** Loads what changed since the last refresh (everything, the first time). */
  async refresh(): Promise<void> {
    const since = this.refreshedUntil;
    const now = new Date(Date.now() - 5_000); // overlap: a write stamped just before "now" is not missed
    const filter = { updatedAt: { $gte: since } };
    for (const e of await this.elderFacts.find(filter).lean()) this.keepElder(e);
    for (const f of await this.facilityFacts.find(filter).lean()) this.keepFacility(f);
    for (const r of await this.regionFacts.find(filter).lean()) this.regions.set(r._id, { name: r.name, level: r.level, parentCode: r.parentCode });
    this.refreshedUntil = now;
  }

  @HandleEvent(ElderRegistered, { group: 'registry-facts' })
  async onElderRegistered(p: PayloadOf<typeof ElderRegistered>): Promise<void> {
    await this.storeElder(p.elder);
  }

  @HandleEvent(ElderUpdated, { group: 'registry-facts' })
  async onElderUpdated(p: PayloadOf<typeof ElderUpdated>): Promise<void> {
    await this.storeElder(p.elder);
  }

  @HandleEvent(ElderAssessed, { group: 'registry-facts' })
  async onElderAssessed(p: PayloadOf<typeof ElderAssessed>): Promise<void> {
    await this.storeElder(p.elder);
  }

  @HandleEvent(ElderCategoriesChanged, { group: 'registry-facts' })
  async onElderCategoriesChanged(p: PayloadOf<typeof ElderCategoriesChanged>): Promise<void> {
    await this.storeElder(p.elder);
  }

  @HandleEvent(ElderStatusChanged, { group: 'registry-facts' })
  async onElderStatusChanged(p: PayloadOf<typeof ElderStatusChanged>): Promise<void> {
    await this.storeElder(p.elder);
  }

  @HandleEvent(FacilityUpserted, { group: 'registry-facts' })
  async onFacility(p: PayloadOf<typeof FacilityUpserted>): Promise<void> {
    const f = p.facility;
    const fact: FacilityInfo = {
      _id: f.facilityId,
      kind: f.kind,
      name: f.name,
      regionCode: f.regionCode,
      regionPath: f.regionPath,
      location: f.location,
      providerId: f.providerId,
      open: f.open,
      version: f.version,
    };
    if (await this.replaceIfNewer(this.facilityFacts, fact)) this.keepFacility(fact);
  }

  @HandleEvent(RegionUpserted, { group: 'registry-facts' })
  async onRegion(p: PayloadOf<typeof RegionUpserted>): Promise<void> {
    const r = p.region;
    const fact = { _id: r.code, name: r.name, level: r.level, parentCode: r.parentCode, version: r.version };
    if (await this.replaceIfNewer(this.regionFacts, fact)) this.regions.set(r.code, { name: r.name, level: r.level, parentCode: r.parentCode });
  }

  private async storeElder(e: ElderSnapshot): Promise<void> {
    const fact: ElderInfo = {
      _id: e.elderId,
      regionCode: e.regionCode,
      regionPath: e.regionPath,
      name: e.name,
      home: e.home,
      categories: e.categories,
      status: e.status,
      version: e.version,
    };
    if (await this.replaceIfNewer(this.elderFacts, fact)) this.keepElder(fact);
  }

  private keepElder(e: ElderInfo & { updatedAt?: Date }): void {
    const current = this.elders.get(e._id);
    if (current && current.version >= e.version) return;
    const { updatedAt: _ignored, ...info } = e;
    this.elders.set(e._id, info);
  }

  private keepFacility(f: FacilityInfo & { updatedAt?: Date }): void {
    const current = this.facilities.get(f._id);
    if (current && current.version >= f.version) return;
    const { updatedAt: _ignored, ...info } = f;
    this.facilities.set(f._id, info);
  }

  /** Replace-if-newer: an older or equal version (a redelivery, a replay) changes nothing. */
  private async replaceIfNewer<T extends { _id: string; version: number }>(model: { collection: Model<ElderFact>['collection'] }, doc: T): Promise<boolean> {
    try {
      const result = await model.collection.updateOne(
        { _id: doc._id as never, version: { $lt: doc.version } },
        { $set: { ...doc, updatedAt: new Date() } },
        { upsert: true },
      );
      return result.modifiedCount + result.upsertedCount > 0;
    } catch (error) {
      if (isDuplicateKeyError(error)) return false; // a newer version is already stored
      throw error;
    }
  }
}
