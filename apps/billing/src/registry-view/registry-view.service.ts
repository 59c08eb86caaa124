import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import {
  CaregiverUpserted,
  CatalogueItemUpserted,
  ElderAbsenceEnded,
  ElderAbsenceRecorded,
  ElderAssessed,
  ElderCategoriesChanged,
  ElderRegistered,
  ElderStatusChanged,
  ElderUpdated,
  FacilityUpserted,
  PriceChanged,
  ProviderUpserted,
  RegionUpserted,
  type ElderSnapshot,
  type PayloadOf,
} from '@yiyang/contracts';
import { HandleEvent, isDuplicateKeyError, type EventContext } from '@yiyang/messaging';
import type { Collection, Connection } from 'mongoose';
import { chinaDate } from '../shared/dates';

/** What billing knows about an elder: the facts eligibility and anomaly checks need, with history. */
export interface ElderFacts {
  _id: string;
  version: number;
  regionCode: string;
  regionPath: string[];
  birthDate: string;
  /** Used as the household key for per-household grants (one grant per home address). */
  householdKey: string;
  categories: string[];
  capabilityLevel: string | null;
  status: string;
  statusSince: string;
  statusHistory: { from: string; to: string; effectiveOn: string; reason: string }[];
  categoryHistory: { added: string[]; removed: string[]; effectiveOn: string }[];
}

export interface PriceListView {
  _id: string;
  providerId: string;
  itemCode: string;
  /** effectiveFrom (yyyy-mm-dd) → price entry; keys have no dots so they are safe as field names. */
  entries: Record<string, { priceFen: number; version: number }>;
}

export interface ItemView {
  _id: string;
  category: string;
  unit: string;
  nameZh: string;
  nameEn: string;
  active: boolean;
  version: number;
}

export interface FacilityView {
  _id: string;
  kind: string;
  regionCode: string;
  regionPath: string[];
  providerId: string | null;
  name: string;
  beds: { total: number; nursing: number; occupied: number };
  open: boolean;
  version: number;
}

/** What billing knows about a caregiver: who employs them, where, their certificates, when they started. */
export interface CaregiverView {
  _id: string;
  providerId: string;
  regionCode: string;
  active: boolean;
  certifications: { name: string; number: string; expiresOn: string }[];
  /** The Asia/Shanghai date billing first saw the caregiver active (hired/activated); never moves. */
  activatedOn: string | null;
  version: number;
}

/** A temporary absence of an elder (away, in hospital): [from, to) in UTC instants; `to` null = not back yet. */
export interface AbsenceView {
  _id: string;
  elderId: string;
  kind: 'AWAY' | 'IN_HOSPITAL';
  from: string;
  to: string | null;
  version: number;
}

export type CaregiverChangeListener = (caregiver: CaregiverView, on: string, ctx: EventContext) => Promise<void>;

/** The price in force on `date`: the entry with the latest effectiveFrom not after it. */
export function priceOn(list: PriceListView | null | undefined, date: string): { priceFen: number; effectiveFrom: string } | null {
  if (!list) return null;
  let best: string | null = null;
  for (const from of Object.keys(list.entries)) if (from <= date && (!best || from > best)) best = from;
  return best ? { priceFen: list.entries[best].priceFen, effectiveFrom: best } : null;
}

export type ElderChangeListener = (elder: ElderFacts, effectiveOn: string, ctx: EventContext) => Promise<void>;

/**
 * Billing's read models of registry facts (event-carried state transfer, design.md): elders with
 * their category and status history, catalogue items, provider price lists with every dated
 * price, regions, facilities. Every write is "replace if newer version", so redelivery and replay
 * are harmless. Lookups on the hot path are by `_id`.
 */
@Injectable()
export class RegistryView implements OnModuleInit {
  readonly elders: Collection<ElderFacts>;
  readonly prices: Collection<PriceListView>;
  readonly items: Collection<ItemView>;
  readonly regions: Collection<{ _id: string; name: string; level: string; parentCode: string | null; version: number }>;
  readonly providers: Collection<{ _id: string; name: string; active: boolean; version: number }>;
  readonly facilities: Collection<FacilityView>;
  readonly caregivers: Collection<CaregiverView>;
  readonly absences: Collection<AbsenceView>;
  private readonly listeners: ElderChangeListener[] = [];
  private readonly caregiverListeners: CaregiverChangeListener[] = [];

  constructor(@InjectConnection() connection: Connection) {
    this.elders = connection.collection('rv_elders') as never;
    this.prices = connection.collection('rv_prices') as never;
    this.items = connection.collection('rv_items') as never;
    this.regions = connection.collection('rv_regions') as never;
    this.providers = connection.collection('rv_providers') as never;
    this.facilities = connection.collection('rv_facilities') as never;
    this.caregivers = connection.collection('rv_caregivers') as never;
    this.absences = connection.collection('rv_absences') as never;
  }

  async onModuleInit(): Promise<void> {
    // Touch the collections so they exist (FerretDB creates lazily; list endpoints must not fail).
    await Promise.all([this.elders, this.prices, this.items].map((c) => c.createIndex({ version: 1 })));
    await this.caregivers.createIndex({ providerId: 1 });
    await this.absences.createIndex({ elderId: 1 });
  }

  /** Absences keep the newest version per absenceId (the registry's rule), whatever order they arrive in. */
  @HandleEvent(ElderAbsenceRecorded, { group: 'registry' })
  async onAbsenceRecorded(p: PayloadOf<typeof ElderAbsenceRecorded>): Promise<void> {
    await this.applyAbsence(p.absence);
  }

  @HandleEvent(ElderAbsenceEnded, { group: 'registry' })
  async onAbsenceEnded(p: PayloadOf<typeof ElderAbsenceEnded>): Promise<void> {
    await this.applyAbsence(p.absence);
  }

  private async applyAbsence(a: PayloadOf<typeof ElderAbsenceRecorded>['absence']): Promise<void> {
    await this.replaceIfNewer(this.absences as never, a.absenceId, { elderId: a.elderId, kind: a.kind, from: a.from, to: a.to, version: a.version });
  }

  /** Caregiver subsidies subscribe here: called after the caregiver's facts are stored. */
  onCaregiverChanged(listener: CaregiverChangeListener): void {
    this.caregiverListeners.push(listener);
  }

  @HandleEvent(CaregiverUpserted, { group: 'registry' })
  async onCaregiver(p: PayloadOf<typeof CaregiverUpserted>, ctx: EventContext): Promise<void> {
    const c = p.caregiver;
    const on = chinaDate(ctx.envelope.occurredAt);
    await this.replaceIfNewer(this.caregivers as never, c.caregiverId, {
      providerId: c.providerId, regionCode: c.regionCode, active: c.active, certifications: c.certifications, version: c.version,
    });
    // The first time the caregiver is seen active is the hiring/activation date (set once).
    if (c.active) await this.caregivers.updateOne({ _id: c.caregiverId, activatedOn: { $exists: false } } as never, { $set: { activatedOn: on } });
    const stored = await this.caregivers.findOne({ _id: c.caregiverId });
    if (!stored) return;
    for (const listener of this.caregiverListeners) await listener(stored, on, ctx);
  }

  /** Entitlements subscribe here: called after the elder's facts are stored. */
  onElderChanged(listener: ElderChangeListener): void {
    this.listeners.push(listener);
  }

  @HandleEvent(ElderRegistered, { group: 'registry' })
  async onRegistered(p: PayloadOf<typeof ElderRegistered>, ctx: EventContext): Promise<void> {
    await this.applyElder(p.elder, ctx, chinaDate(ctx.envelope.occurredAt));
  }

  @HandleEvent(ElderUpdated, { group: 'registry' })
  async onUpdated(p: PayloadOf<typeof ElderUpdated>, ctx: EventContext): Promise<void> {
    await this.applyElder(p.elder, ctx, chinaDate(ctx.envelope.occurredAt));
  }

  @HandleEvent(ElderAssessed, { group: 'registry' })
  async onAssessed(p: PayloadOf<typeof ElderAssessed>, ctx: EventContext): Promise<void> {
    await this.applyElder(p.elder, ctx, p.assessment.assessedOn);
  }

  @HandleEvent(ElderCategoriesChanged, { group: 'registry' })
  async onCategories(p: PayloadOf<typeof ElderCategoriesChanged>, ctx: EventContext): Promise<void> {
    await this.elders.updateOne(
      { _id: p.elder.elderId },
      { $addToSet: { categoryHistory: { added: p.added, removed: p.removed, effectiveOn: p.effectiveOn } } } as never,
      { upsert: false },
    );
    await this.applyElder(p.elder, ctx, p.effectiveOn, { categoryHistory: [{ added: p.added, removed: p.removed, effectiveOn: p.effectiveOn }] });
  }

  @HandleEvent(ElderStatusChanged, { group: 'registry' })
  async onStatus(p: PayloadOf<typeof ElderStatusChanged>, ctx: EventContext): Promise<void> {
    const entry = { from: p.from, to: p.to, effectiveOn: p.effectiveOn, reason: p.reason };
    await this.elders.updateOne({ _id: p.elder.elderId }, { $addToSet: { statusHistory: entry } } as never);
    await this.applyElder(p.elder, ctx, p.effectiveOn, { statusHistory: [entry] });
  }

  private async applyElder(
    e: ElderSnapshot,
    ctx: EventContext,
    effectiveOn: string,
    initialHistory: Partial<Pick<ElderFacts, 'statusHistory' | 'categoryHistory'>> = {},
  ): Promise<void> {
    const facts = {
      version: e.version,
      regionCode: e.regionCode,
      regionPath: e.regionPath,
      birthDate: e.birthDate,
      householdKey: `${e.regionCode}:${e.homeAddress.replace(/\s+/g, '')}`,
      categories: e.categories,
      capabilityLevel: e.capabilityLevel,
      status: e.status,
      statusSince: e.statusSince,
    };
    const res = await this.elders.updateOne({ _id: e.elderId, version: { $lt: e.version } }, { $set: facts });
    if (res.matchedCount === 0) {
      try {
        await this.elders.insertOne({ _id: e.elderId, ...facts, statusHistory: [], categoryHistory: [], ...initialHistory } as ElderFacts);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        // Already at this version or newer: a redelivery; still let listeners re-check (idempotent).
      }
    }
    const stored = await this.elders.findOne({ _id: e.elderId });
    if (!stored) return;
    for (const listener of this.listeners) await listener(stored, effectiveOn, ctx);
  }

  @HandleEvent(PriceChanged, { group: 'registry' })
  async onPrice(p: PayloadOf<typeof PriceChanged>): Promise<void> {
    const { providerId, itemCode, priceFen, effectiveFrom, version } = p.price;
    const _id = `${providerId}:${itemCode}`;
    const key = `entries.${effectiveFrom}`;
    const filter = { _id, $or: [{ [key]: { $exists: false } }, { [`${key}.version`]: { $lt: version } }] };
    try {
      await this.prices.updateOne(filter as never, { $set: { providerId, itemCode, [key]: { priceFen, version } } } as never, { upsert: true });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error; // a newer version of that entry is already stored
    }
  }

  @HandleEvent(CatalogueItemUpserted, { group: 'registry' })
  async onItem(p: PayloadOf<typeof CatalogueItemUpserted>): Promise<void> {
    const { code, ...rest } = p.item;
    await this.replaceIfNewer(this.items as never, code, rest);
  }

  @HandleEvent(RegionUpserted, { group: 'registry' })
  async onRegion(p: PayloadOf<typeof RegionUpserted>): Promise<void> {
    const { code, name, level, parentCode, version } = p.region;
    await this.replaceIfNewer(this.regions as never, code, { name, level, parentCode, version });
  }

  @HandleEvent(ProviderUpserted, { group: 'registry' })
  async onProvider(p: PayloadOf<typeof ProviderUpserted>): Promise<void> {
    const { providerId, name, active, version } = p.provider;
    await this.replaceIfNewer(this.providers as never, providerId, { name, active, version });
  }

  @HandleEvent(FacilityUpserted, { group: 'registry' })
  async onFacility(p: PayloadOf<typeof FacilityUpserted>): Promise<void> {
    const f = p.facility;
    await this.replaceIfNewer(this.facilities as never, f.facilityId, {
      kind: f.kind,
      regionCode: f.regionCode,
      regionPath: f.regionPath,
      providerId: f.providerId,
      name: f.name,
      beds: f.beds,
      open: f.open,
      version: f.version,
    });
  }

  private async replaceIfNewer(collection: Collection<{ _id: string; version: number }>, _id: string, doc: { version: number } & Record<string, unknown>): Promise<void> {
    const res = await collection.updateOne({ _id, version: { $lt: doc.version } }, { $set: doc });
    if (res.matchedCount > 0) return;
    try {
      await collection.insertOne({ _id, ...doc });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  elder(elderId: string): Promise<ElderFacts | null> {
    return this.elders.findOne({ _id: elderId });
  }

  priceList(providerId: string, itemCode: string): Promise<PriceListView | null> {
    return this.prices.findOne({ _id: `${providerId}:${itemCode}` });
  }

  item(code: string): Promise<ItemView | null> {
    return this.items.findOne({ _id: code });
  }
}
