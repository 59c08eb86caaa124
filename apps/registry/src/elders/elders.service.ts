import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import {
  ElderAssessed,
  ElderCategoriesChanged,
  ElderRegistered,
  ElderStatusChanged,
  ElderUpdated,
  type ElderCategory,
  type ElderSnapshot,
  type ElderStatus,
} from '@yiyang/contracts';
import { h3Cell, regionLevel, regionPath } from '@yiyang/geo';
import { Events, isDuplicateKeyError, toOutboxEntry, type OutboxEntry, type PendingEvent } from '@yiyang/messaging';
import { AppError, dropIndexes, ensureIndexes, isFerretDb, type Page, PageQuery, parseInput, type Principal, REGION_ROLES } from '@yiyang/service-kit';
import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import type { Model } from 'mongoose';
import type { z } from 'zod';
import { v7 as uuidv7 } from 'uuid';
import { AuditService, type AuditRecord, type RequestOrigin } from '../audit/audit.service';
import { RegionsService } from '../regions/regions.service';
import { forbidden, notFound, regionScopeFilter } from '../shared/scope';
import { advancedAgeFrom, bornOnOrBefore, chinaDate, ADVANCED_AGE_YEARS, isAdvancedAge } from './domain/age';
import { normaliseIdCard } from './domain/id-card';
import {
  checkProfile,
  ElderInput,
  ElderListQuery,
  ElderPatch,
  isProblem,
  StatusChange,
  type CheckedProfile,
  type GuardianInput,
  type InputProblem,
} from './elder-input';
import { Elder, type LatestAssessment, type StatusHistoryEntry, type StoredAbsence, type StoredGuardian } from './elder.schema';
import { elderOutbox, elderOutboxFields, ImportEventBatches, type PreparedBatch } from './import-events';
import { maskIdCard, maskPhone, normalisePhone, PiiVault } from './pii';

export type UpsertResult =
  | { index: number; outcome: 'created' | 'updated' | 'unchanged'; elderId: string }
  | { index: number; error: { field: string; reason: string; code: string; messageZh?: string } };

export interface ElderView {
  id: string;
  name: string;
  gender: Elder['gender'];
  birthDate: string;
  /** Masked (110105********002X) unless revealed. */
  idCardNumber: string;
  phone: string | null;
  regionCode: string;
  regionPath: string[];
  homeAddress: string;
  home: { lat: number; lng: number };
  homeCell: string;
  categories: ElderCategory[];
  capabilityLevel: Elder['capabilityLevel'];
  latestAssessment: LatestAssessment | null;
  status: ElderStatus;
  statusSince: string;
  statusHistory: StatusHistoryEntry[];
  guardians: { guardianId: string; name: string; relation: string; phone: string }[];
  preferences: { caregiverGender: Elder['gender'] | null };
  version: number;
  revealed: boolean;
}

type StoredElder = Omit<Elder, 'outbox' | 'outboxPending'>;
type Changes = { set: Partial<StoredElder>; changedFields: string[]; added: ElderCategory[]; removed: ElderCategory[] };

const BATCH_SIZE = 1_000;
/** Planning yields to the event loop this often, so the write in flight is not held up by it. */
const PLAN_YIELD_ROWS = 200;
// The first attempt inserts the whole batch blind (see upsertBatch), so one attempt more than the
// three a guarded update may lose in a row.
const MAX_BATCH_ATTEMPTS = 4;
const REFRESH_EVERY_MS = 6 * 60 * 60 * 1000;
const REVEAL_ROLES: readonly string[] = ['civil_affairs_admin', 'assessor'];
const STATUS_TRANSITIONS: Record<ElderStatus, readonly ElderStatus[]> = {
  ACTIVE: ['MOVED_OUT', 'DECEASED'],
  MOVED_OUT: ['ACTIVE', 'DECEASED'],
  DECEASED: [],
};

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

function concurrentUpdate(): AppError {
  return new AppError('REGISTRY.CONCURRENT_UPDATE', 409, 'Elder changed meanwhile; reload and retry', { messageZh: '档案已被他人修改，请刷新后重试' });
}

function duplicateElder(): AppError {
  return new AppError('REGISTRY.ELDER_DUPLICATE', 409, 'An elder with this ID-card number is already registered', {
    field: 'idCardNumber',
    messageZh: '该身份证号码的老人已登记',
  });
}

function deceased(): AppError {
  return new AppError('REGISTRY.ELDER_DECEASED', 409, 'The elder is recorded as deceased; the record is final', { messageZh: '该老人已登记为去世，档案不可再修改' });
}

function problemError(p: InputProblem): AppError {
  return new AppError(p.code, 400, `${p.field}: ${p.message}`, { field: p.field, messageZh: p.messageZh, details: { reason: p.kind } });
}

/** Categories as stored: the caller's, plus ADVANCED_AGE exactly when the birth date says so; sorted. */
export function deriveCategories(categories: readonly ElderCategory[], birthDate: string, today: string): ElderCategory[] {
  const set = new Set<ElderCategory>(categories.filter((c) => c !== 'ADVANCED_AGE'));
  if (isAdvancedAge(birthDate, today)) set.add('ADVANCED_AGE');
  return [...set].sort();
}

@Injectable()
export class EldersService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(EldersService.name);
  private refreshTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(Elder.name) private readonly elders: Model<Elder>,
    private readonly regions: RegionsService,
    private readonly vault: PiiVault,
    private readonly audit: AuditService,
    private readonly events: Events,
    private readonly importEvents: ImportEventBatches,
  ) {}

  private get collection(): Collection<StoredElder> {
    return this.elders.collection as unknown as Collection<StoredElder>;
  }

  async onModuleInit(): Promise<void> {
    // The unique idCardHash index is what refuses a duplicate person: it must exist before traffic.
    await this.elders.init();
    // Indexes for the queries that can use them on this database (ADR 0006): the name prefix search and
    // the region scope's array equality are narrowed by MongoDB's indexes, not by FerretDB's, where
    // those indexes would only slow the roster import's inserts. phoneHash and homeCell are never
    // filtered on (an older version indexed them).
    const collection = this.elders.collection;
    if (await isFerretDb(this.elders.db)) await dropIndexes(collection, ['name', 'regionPath', 'phoneHash', 'homeCell']);
    else {
      await ensureIndexes(collection, ['name', 'regionPath']);
      await dropIndexes(collection, ['phoneHash', 'homeCell']);
    }
    // Not registered with the shared OutboxRelay: ImportEventBatches relays the elders' outboxes (see there).
  }

  onApplicationBootstrap(): void {
    const run = () =>
      this.refreshDerivedCategories(new Date()).catch((error: unknown) => this.log.error({ err: error }, 'refreshing derived categories failed; next run retries'));
    void run();
    this.refreshTimer = setInterval(run, REFRESH_EVERY_MS);
    this.refreshTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.refreshTimer);
  }

  // ── reads ───────────────────────────────────────────────────────────────────────────────

  /** Object-level read scope, applied inside every query: a region subtree, or one's own elders. */
  private readScope(principal: Principal): Record<string, unknown> {
    if (REGION_ROLES.includes(principal.role)) return regionScopeFilter(principal);
    if ((principal.role === 'elder' || principal.role === 'guardian') && principal.elderIds) return { _id: { $in: principal.elderIds } };
    throw forbidden();
  }

  private writeScope(principal: Principal, roles: readonly string[] = ['civil_affairs_admin']): Record<string, unknown> {
    if (!roles.includes(principal.role)) throw forbidden();
    return regionScopeFilter(principal);
  }

  /** For sibling features (assessments): the elder if the caller may read it, else 404. */
  async findReadable(principal: Principal, elderId: string): Promise<StoredElder> {
    // $and, not a spread: an elder or guardian scope is itself an _id condition and must not replace this one.
    const elder = await this.collection.findOne({ $and: [{ _id: elderId }, this.readScope(principal)] } as never, { projection: { outbox: 0 } });
    if (!elder) throw notFound('REGISTRY.ELDER_NOT_FOUND', 'Elder', '老人档案');
    return hydrate(elder);
  }

  /** For sibling features (absences): the elder if the caller may change it, else 404. */
  async findWritable(principal: Principal, elderId: string, roles?: readonly string[]): Promise<StoredElder> {
    const elder = await this.collection.findOne({ $and: [{ _id: elderId }, this.writeScope(principal, roles)] } as never, { projection: { outbox: 0 } });
    if (!elder) throw notFound('REGISTRY.ELDER_NOT_FOUND', 'Elder', '老人档案');
    return hydrate(elder);
  }

  async get(principal: Principal, elderId: string, reveal: boolean, origin: RequestOrigin): Promise<ElderView> {
    if (reveal && !REVEAL_ROLES.includes(principal.role)) {
      throw new AppError('AUTH.FORBIDDEN', 403, 'Only civil-affairs staff and assessors may see unmasked personal data', {
        field: 'reveal',
        messageZh: '仅民政管理员和评估员可查看未脱敏信息',
      });
    }
    const elder = await this.findReadable(principal, elderId);
    if (reveal) {
      // Written before the data leaves: if the audit cannot be stored, nothing is revealed.
      await this.audit.record({
        action: 'ELDER_PII_REVEALED',
        actor: principal,
        elderId,
        regionPath: elder.regionPath,
        fields: ['idCardNumber', 'phone', 'guardians.phone'],
        origin,
      });
    }
    return this.toView(elder, reveal);
  }

  async list(principal: Principal, query: Record<string, unknown>): Promise<Page<ElderView>> {
    const page = parseInput(PageQuery, query);
    const q = parseInput(ElderListQuery, query);
    const conditions: Record<string, unknown>[] = [this.readScope(principal)];
    if (q.regionCode) conditions.push({ regionPath: q.regionCode });
    if (q.category) conditions.push({ categories: q.category });
    if (q.status) conditions.push({ status: q.status });
    if (q.name) conditions.push({ name: { $regex: `^${escapeRegex(q.name)}` } });
    if (q.idCardNumber) conditions.push({ idCardHash: this.vault.hash(normaliseIdCard(q.idCardNumber)) });
    const filter = conditions.length === 1 ? conditions[0] : { $and: conditions };
    const [docs, total] = await Promise.all([
      this.collection
        .find(filter as never, { projection: { outbox: 0 } })
        .sort({ _id: 1 })
        .skip((page.page - 1) * page.pageSize)
        .limit(page.pageSize)
        .toArray(),
      this.collection.countDocuments(filter as never),
    ]);
    return { items: docs.map((d) => this.toView(hydrate(d), false)), page: page.page, pageSize: page.pageSize, total };
  }

  // ── writes ──────────────────────────────────────────────────────────────────────────────

  async register(principal: Principal, body: unknown, origin: RequestOrigin): Promise<ElderView> {
    this.writeScope(principal);
    const input = parseInput(ElderInput, body);
    const today = chinaDate(new Date());
    const profile = checkProfile(input, today);
    if (isProblem(profile)) throw problemError(profile);
    const path = await this.communityInScope(principal, profile.regionCode);
    const idCardHash = this.vault.hash(profile.idCardNumber);
    if (await this.collection.countDocuments({ idCardHash }, { limit: 1 })) throw duplicateElder();

    const { doc, events } = this.newElder(profile, idCardHash, path, today, origin.correlationId);
    try {
      await this.collection.insertOne({ ...slimForInsert(doc), ...elderOutboxFields(events) } as never);
    } catch (error) {
      // Two registrations of one person racing each other: the unique index lets one through.
      if (isDuplicateKeyError(error)) throw duplicateElder();
      throw error;
    }
    this.importEvents.nudge();
    await this.audit.record({ action: 'ELDER_REGISTERED', actor: principal, elderId: doc._id, regionPath: doc.regionPath, origin });
    return this.toView(doc, false);
  }

  async update(principal: Principal, elderId: string, body: unknown, origin: RequestOrigin): Promise<ElderView> {
    const patch = parseInput(ElderPatch, body);
    const existing = await this.findWritable(principal, elderId);
    if (existing.status === 'DECEASED') throw deceased();
    if (patch.version !== undefined && patch.version !== existing.version) throw concurrentUpdate();
    const today = chinaDate(new Date());
    const merged = checkProfile(
      {
        name: patch.name ?? existing.name,
        gender: patch.gender ?? existing.gender,
        // A corrected ID number brings its own birth date unless one is given beside it.
        birthDate: patch.birthDate ?? (patch.idCardNumber ? undefined : existing.birthDate),
        idCardNumber: patch.idCardNumber ?? this.vault.decrypt(existing.idCardCipher),
        phone: patch.phone,
        regionCode: patch.regionCode ?? existing.regionCode,
        homeAddress: patch.homeAddress ?? existing.homeAddress,
        home: patch.home ?? existing.home,
        categories: patch.categories ?? existing.categories,
        guardians: patch.guardians,
        caregiverGender: patch.preferences?.caregiverGender,
      },
      today,
    );
    if (isProblem(merged)) throw problemError(merged);
    const path = merged.regionCode === existing.regionCode ? existing.regionPath : await this.communityInScope(principal, merged.regionCode);
    const changes = this.diff(existing, merged, path, today);
    if (changes.changedFields.length === 0) return this.toView(existing, false);
    if (changes.set.idCardHash && (await this.collection.countDocuments({ idCardHash: changes.set.idCardHash, _id: { $ne: elderId } } as never, { limit: 1 }))) {
      throw duplicateElder();
    }
    const { next, update } = this.changeUpdate(existing, changes, today, origin.correlationId);
    try {
      const res = await this.collection.updateOne({ _id: elderId, version: existing.version } as never, update as never);
      if (res.matchedCount === 0) throw concurrentUpdate();
    } catch (error) {
      if (isDuplicateKeyError(error)) throw duplicateElder();
      throw error;
    }
    this.importEvents.nudge();
    await this.audit.record({
      action: 'ELDER_UPDATED',
      actor: principal,
      elderId,
      regionPath: next.regionPath,
      fields: changes.changedFields,
      origin,
    });
    return this.toView(next, false);
  }

  async changeStatus(principal: Principal, elderId: string, body: unknown, origin: RequestOrigin): Promise<ElderView> {
    const input = parseInput(StatusChange, body);
    const existing = await this.findWritable(principal, elderId);
    const today = chinaDate(new Date());
    if (existing.status === 'DECEASED') {
      throw new AppError('REGISTRY.ELDER_STATUS_FINAL', 409, 'A deceased elder’s status cannot change', { field: 'status', messageZh: '已故老人的状态不可再变更' });
    }
    if (!STATUS_TRANSITIONS[existing.status].includes(input.status)) {
      throw new AppError('REGISTRY.ELDER_STATUS_UNCHANGED', 409, `The elder is already ${existing.status}`, { field: 'status', messageZh: '状态未变化' });
    }
    if (input.effectiveOn > today || input.effectiveOn < existing.statusSince) {
      throw new AppError('REGISTRY.STATUS_DATE_INVALID', 400, `effectiveOn must lie between ${existing.statusSince} and today`, {
        field: 'effectiveOn',
        messageZh: `生效日期应在 ${existing.statusSince} 与今天之间`,
      });
    }
    const entry: StatusHistoryEntry = { from: existing.status, to: input.status, on: input.effectiveOn, reason: input.reason, by: principal.userId };
    const version = existing.version + 1;
    const next: StoredElder = {
      ...existing,
      status: input.status,
      statusSince: input.effectiveOn,
      statusHistory: [...existing.statusHistory, entry],
      version,
    };
    const event = this.events.create(ElderStatusChanged, {
      key: elderId,
      correlationId: origin.correlationId,
      payload: { elder: this.snapshot(next), from: existing.status, to: input.status, effectiveOn: input.effectiveOn, reason: input.reason },
    });
    const res = await this.collection.updateOne(
      { _id: elderId, version: existing.version } as never,
      elderOutbox(
        { $set: { status: input.status, statusSince: input.effectiveOn, version, changeId: randomUUID(), updatedAt: new Date() }, $push: { statusHistory: entry } },
        [event],
      ) as never,
    );
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.importEvents.nudge();
    await this.audit.record({
      action: 'ELDER_STATUS_CHANGED',
      actor: principal,
      elderId,
      regionPath: existing.regionPath,
      fields: ['status'],
      origin,
      details: { from: entry.from, to: entry.to, effectiveOn: entry.on },
    });
    return this.toView(next, false);
  }

  /**
   * Applies a stored assessment to the elder (assessments feature). Idempotent: the elder remembers
   * which assessments it has applied, so a retry after a crash or a lost response does nothing twice.
   */
  async applyAssessment(principal: Principal, elderId: string, assessment: LatestAssessment, origin: RequestOrigin): Promise<ElderView> {
    for (let attempt = 0; attempt < MAX_BATCH_ATTEMPTS; attempt++) {
      const existing = await this.findWritable(principal, elderId, ['civil_affairs_admin', 'assessor']);
      if (existing.assessmentIds.includes(assessment.assessmentId)) return this.toView(existing, false);
      if (existing.status === 'DECEASED') throw deceased();
      // A back-dated assessment is kept but does not displace a more recent one.
      const latest = !existing.latestAssessment || assessment.assessedOn >= existing.latestAssessment.assessedOn;
      const version = existing.version + 1;
      const set: Partial<StoredElder> = latest ? { capabilityLevel: assessment.level, latestAssessment: assessment, version } : { version };
      const next: StoredElder = { ...existing, ...set, assessmentIds: [...existing.assessmentIds, assessment.assessmentId] };
      const event = this.events.create(ElderAssessed, {
        key: elderId,
        correlationId: origin.correlationId,
        payload: { elder: this.snapshot(next), assessment, previousLevel: existing.capabilityLevel },
      });
      const res = await this.collection.updateOne(
        { _id: elderId, version: existing.version, assessmentIds: { $ne: assessment.assessmentId } } as never,
        elderOutbox({ $set: { ...set, changeId: randomUUID(), updatedAt: new Date() }, $push: { assessmentIds: assessment.assessmentId } }, [event]) as never,
      );
      if (res.matchedCount === 1) {
        this.importEvents.nudge();
        await this.audit.record({
          action: 'ELDER_ASSESSED',
          actor: principal,
          elderId,
          regionPath: existing.regionPath,
          fields: latest ? ['capabilityLevel'] : [],
          origin,
          details: { assessmentId: assessment.assessmentId, level: assessment.level },
        });
        return this.toView(next, false);
      }
    }
    throw concurrentUpdate();
  }

  /**
   * 高龄 follows the calendar: finds elders who crossed 80 (or whose corrected birth date says they
   * have not) and fixes their categories. Idempotent and safe with several replicas: the query only
   * matches elders still needing the fix, and each update is version-guarded, so two replicas running
   * at once fix each elder exactly once.
   */
  async refreshDerivedCategories(asOf: Date): Promise<number> {
    const today = chinaDate(asOf);
    const cutoff = bornOnOrBefore(today, ADVANCED_AGE_YEARS);
    const filter = {
      status: { $ne: 'DECEASED' },
      $or: [
        { birthDate: { $lte: cutoff }, categories: { $ne: 'ADVANCED_AGE' } },
        { birthDate: { $gt: cutoff }, categories: 'ADVANCED_AGE' },
      ],
    };
    let fixed = 0;
    for (let round = 0; round < 10_000; round++) {
      const docs = (await this.collection.find(filter as never, { projection: { outbox: 0 } }).limit(500).toArray()).map(hydrate);
      if (docs.length === 0) break;
      const ops: AnyBulkWriteOperation<StoredElder>[] = [];
      const audits: AuditRecord[] = [];
      for (const doc of docs) {
        const categories = deriveCategories(doc.categories, doc.birthDate, today);
        const added = categories.filter((c) => !doc.categories.includes(c));
        const removed = doc.categories.filter((c) => !categories.includes(c));
        const effectiveOn = added.includes('ADVANCED_AGE') ? advancedAgeFrom(doc.birthDate) : today;
        const changes: Changes = { set: { categories }, changedFields: ['categories'], added, removed };
        const { update } = this.changeUpdate(doc, changes, effectiveOn, `refresh-categories-${today}`);
        ops.push({ updateOne: { filter: { _id: doc._id, version: doc.version } as never, update: update as never } });
        audits.push({
          action: 'ELDER_CATEGORIES_DERIVED',
          actor: { userId: 'system', role: 'system' },
          elderId: doc._id,
          regionPath: doc.regionPath,
          fields: ['categories'],
          origin: { correlationId: `refresh-categories-${today}` },
          details: { added, removed, effectiveOn },
        });
      }
      const res = await this.collection.bulkWrite(ops, { ordered: false });
      fixed += res.modifiedCount;
      // Another replica or a user beat every update of this round: their writes fixed or will be re-read.
      if (res.matchedCount === 0 && round > 3) break;
      await this.audit.recordMany(audits);
    }
    if (fixed > 0) {
      this.importEvents.nudge();
      this.log.log(`derived categories refreshed for ${fixed} elders (as of ${today})`);
    }
    return fixed;
  }

  // ── the roster batch ──────────────────────────────────────────────────────────────────

  /**
   * Registers or updates many elders at once (the roster import). The same person — the same ID
   * number — is updated, never duplicated; a row identical to the record is 'unchanged' and
   * publishes nothing. Per batch of 1,000: new people are inserted with one unordered insertMany and
   * their ElderRegistered events go into ONE batch document (ImportEventBatches: prepare → write →
   * commit), people already on file are updated with one bulkWrite of version-guarded updates each
   * carrying its own events, and one audit entry records the batch.
   *
   * `lookupFirst`: look the batch's people up before writing (cheap when most exist: a re-run); else
   * insert blind and let the unique index on idCardHash pick out the ones on file (a first import
   * then needs no lookup at all). `stats.existing` tells the caller which to choose next time.
   */
  async upsertMany(principal: Principal, rows: ElderInput[], correlationId: string, options: UpsertOptions = {}): Promise<UpsertResult[]> {
    return this.applyUpsert(await this.planUpsert(principal, rows, correlationId, options));
  }

  /**
   * The CPU half of upsertMany, touching no elder record: validates, hashes, and — when inserting
   * blind — builds every new document and its event (encryption, H3 cell, envelope). The importer
   * plans batch n+1 while batch n is being written, so the database and the CPU work side by side.
   */
  async planUpsert(principal: Principal, rows: ElderInput[], correlationId: string, options: UpsertOptions = {}): Promise<UpsertPlan> {
    this.writeScope(principal);
    const today = chinaDate(new Date());
    const results: UpsertResult[] = new Array(rows.length);
    const fail = (index: number, p: { field: string; message: string; code: string; messageZh?: string }) => {
      results[index] = { index, error: { field: p.field, reason: p.message, code: p.code, messageZh: p.messageZh } };
    };
    const firstRowOf = new Map<string, number>();
    const checked: BatchRow[] = [];
    rows.forEach((row, index) => {
      let input = row as z.output<typeof ElderInput>;
      if (!options.prevalidated) {
        const parsed = ElderInput.safeParse(row);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const field = issue.path.join('.');
          fail(index, { field, message: issue.message, code: 'VALIDATION.INVALID_INPUT', messageZh: `字段 ${field} 无效：${issue.message}` });
          return;
        }
        input = parsed.data;
      }
      const profile = checkProfile(input, today);
      if (isProblem(profile)) return fail(index, profile);
      const idCardHash = this.vault.hash(profile.idCardNumber);
      const first = firstRowOf.get(idCardHash);
      if (first !== undefined) {
        return fail(index, {
          field: 'idCardNumber',
          code: 'REGISTRY.ELDER_DUPLICATE',
          message: `same ID-card number as row ${first}`,
          messageZh: `与第 ${first} 行身份证号码重复`,
        });
      }
      firstRowOf.set(idCardHash, index);
      checked.push({ index, profile, idCardHash });
    });

    // One import passes the same cache to every batch: a roster names the same ~200 communities throughout.
    const regionCache = options.regionCache ?? new Map<string, Promise<string[] | InputProblem>>();
    for (const code of new Set(checked.map((r) => r.profile.regionCode))) {
      if (!regionCache.has(code)) regionCache.set(code, this.communityInScope(principal, code).catch((e: unknown) => toProblem(e, 'regionCode')));
    }
    const context: BatchContext = {
      principal,
      today,
      correlationId,
      importId: options.importId ?? null,
      regionCache,
      results,
      audit: { created: [], updated: [] },
      timings: options.timings,
    };
    const prebuilt: UpsertPlan['prebuilt'] = new Map();
    let early: UpsertPlan['early'];
    if (!options.lookupFirst) {
      const paths = await resolvePaths(regionCache, checked);
      let n = 0;
      for (const row of checked) {
        // Let the batch being written meanwhile go on: its database answers are handled between rows.
        if (++n % PLAN_YIELD_ROWS === 0) await new Promise((resolve) => setImmediate(resolve));
        const path = paths.get(row.profile.regionCode);
        if (!Array.isArray(path)) continue;
        const { doc, events } = this.newElder(row.profile, row.idCardHash, path, today, correlationId);
        // The event's outbox entry (its serialised envelope) and the stored form of the
        // record are made here too, while the previous batch is being written.
        const entry = toOutboxEntry(events[0].definition, events[0].envelope);
        prebuilt.set(row.index, { doc, event: events[0], entry, stored: slimForInsert(doc) });
      }
      if (options.prepareEarly && prebuilt.size > 0 && checked.length <= BATCH_SIZE) {
        // Step 1 (prepare) of a first-attempt insert, already now: it queues at the database behind the
        // previous batch's writes instead of waiting for them. Should the plan never be applied, the
        // prepared batch's lease runs out and the sweeper finds none of its elders stored: nothing is published.
        const rows = [...prebuilt.values()].map((b) => ({ elderId: b.doc._id, event: b.event, entry: b.entry }));
        const t0 = performance.now();
        const prepared = this.importEvents.prepare(context.importId, rows).finally(() => {
          if (context.timings) context.timings['prepare'] = (context.timings['prepare'] ?? 0) + (performance.now() - t0);
        });
        prepared.catch(() => undefined); // awaited (and its failure thrown) by applyUpsert
        early = { elderIds: rows.map((r) => r.elderId), prepared };
      }
    }
    return { context, checked, prebuilt, early, lookupFirst: Boolean(options.lookupFirst), deferAudit: Boolean(options.deferAudit) };
  }

  /** The database half: writes a plan (see upsertMany), then one audit entry for it. */
  async applyUpsert(plan: UpsertPlan): Promise<UpsertResult[]> {
    const { context, checked } = plan;
    const { principal, correlationId, results } = context;
    for (let start = 0; start < checked.length; start += BATCH_SIZE) {
      await this.upsertBatch(context, checked.slice(start, start + BATCH_SIZE), plan.lookupFirst ? 2 : 1, plan.prebuilt, plan.early);
    }
    // One audit entry per call (a roster batch), naming every elder it registered or changed.
    const { created, updated } = context.audit;
    if (created.length + updated.length > 0) {
      const write = timed(context.timings, 'audit', () => this.audit.record({
        action: 'ELDER_ROSTER_BATCH_IMPORTED',
        actor: principal,
        elderId: null,
        elderIds: [...created, ...updated],
        regionPath: principal.regionCode ? regionPath(principal.regionCode) : [],
        origin: { correlationId },
        details: { importId: context.importId, created: created.length, updated: updated.length, updatedIds: updated },
      }));
      if (plan.deferAudit) {
        // The importer awaits it before its next batch's audit and before it answers.
        write.catch(() => undefined);
        plan.auditWrite = write;
      } else await write;
    }
    if (updated.length > 0) this.importEvents.nudge();
    return results;
  }

  /** `attempt` 1 inserts blind; from 2 on, the batch's people are looked up first. */
  private async upsertBatch(ctx: BatchContext, batch: BatchRow[], attempt: number, prebuilt?: UpsertPlan['prebuilt'], early?: UpsertPlan['early']): Promise<void> {
    const { principal, today, correlationId, regionCache, results } = ctx;
    const fail = (row: BatchRow, field: string, code: string, reason: string, messageZh: string) => {
      results[row.index] = { index: row.index, error: { field, reason, code, messageZh } };
    };
    for (const code of new Set(batch.map((r) => r.profile.regionCode))) {
      if (!regionCache.has(code)) regionCache.set(code, this.communityInScope(principal, code).catch((e: unknown) => toProblem(e, 'regionCode')));
    }
    // An $in of ≤ 500 strings on an indexed field is an index lookup on FerretDB too (ADR 0001).
    const existing: StoredElder[] = [];
    if (attempt > 1) {
      for (let i = 0; i < batch.length; i += 500) {
        const found = await timed(ctx.timings, 'lookup', this.collection
          .find({ idCardHash: { $in: batch.slice(i, i + 500).map((r) => r.idCardHash) } } as never, { projection: { outbox: 0 } })
          .toArray());
        existing.push(...found.map(hydrate));
      }
    }
    const byHash = new Map(existing.map((e) => [e.idCardHash, e]));
    const paths = await resolvePaths(regionCache, batch);

    const creates: { row: BatchRow; doc: StoredElder; event: PendingEvent; entry?: OutboxEntry; stored?: Partial<StoredElder> }[] = [];
    const updates: { row: BatchRow; next: StoredElder; changeId: string; changedFields: string[]; update: object; version: number }[] = [];
    for (const row of batch) {
      const path = paths.get(row.profile.regionCode);
      if (!path || !Array.isArray(path)) {
        const p = path as InputProblem;
        fail(row, p.field, p.code, p.message, p.messageZh);
        continue;
      }
      const current = byHash.get(row.idCardHash);
      if (!current) {
        const built = attempt === 1 ? prebuilt?.get(row.index) : undefined;
        if (built) creates.push({ row, ...built });
        else {
          const { doc, events } = this.newElder(row.profile, row.idCardHash, path, today, correlationId);
          creates.push({ row, doc, event: events[0] });
        }
        continue;
      }
      if (!current.regionPath.includes(principal.regionCode ?? '-')) {
        fail(row, 'idCardNumber', 'REGISTRY.ELDER_DUPLICATE', 'already registered outside your region', '该老人已在其他辖区登记');
        continue;
      }
      const changes = this.diff(current, row.profile, path, today);
      if (changes.changedFields.length === 0) {
        results[row.index] = { index: row.index, outcome: 'unchanged', elderId: current._id };
        continue;
      }
      if (current.status === 'DECEASED') {
        fail(row, 'status', 'REGISTRY.ELDER_DECEASED', 'the elder is recorded as deceased; the record is final', '该老人已登记为去世，档案不可再修改');
        continue;
      }
      const { next, update, changeId } = this.changeUpdate(current, changes, today, correlationId);
      updates.push({ row, next, changeId, changedFields: changes.changedFields, update, version: current.version });
    }

    const retry: BatchRow[] = [];
    if (creates.length > 0) {
      // prepare → write → commit (import-events.ts): the events are stored before the elders and
      // published only once committed, so neither a crash nor a duplicate row can publish an event
      // for an elder that was not stored, or store an elder whose event is lost.
      const rows = creates.map((c) => ({ elderId: c.doc._id, event: c.event, entry: c.entry }));
      const preparedEarly = attempt === 1 && early && sameList(early.elderIds, rows.map((r) => r.elderId));
      if (early && !preparedEarly) await early.prepared.catch(() => undefined); // its sweeper finds none stored under its ids
      const prepared = preparedEarly ? await early.prepared : await timed(ctx.timings, 'prepare', this.importEvents.prepare(ctx.importId, rows));
      const failed = new Set<number>();
      try {
        await timed(ctx.timings, 'insertElders', () => this.collection.insertMany(creates.map((c) => c.stored ?? slimForInsert(c.doc)) as never[], { ordered: false }));
      } catch (error) {
        const writeErrors = (error as { writeErrors?: { index: number; code?: number }[] }).writeErrors;
        if (!writeErrors?.length || writeErrors.some((w) => w.code !== 11000)) throw error;
        // Already on file (or registered meanwhile by someone else): look it up and update it instead.
        for (const w of writeErrors) failed.add(w.index);
      }
      const notWritten: string[] = [];
      creates.forEach((c, i) => {
        if (failed.has(i)) {
          notWritten.push(c.doc._id);
          retry.push(c.row);
          return;
        }
        results[c.row.index] = { index: c.row.index, outcome: 'created', elderId: c.doc._id };
        ctx.audit.created.push(c.doc._id);
      });
      await timed(ctx.timings, 'commit', this.importEvents.commit(prepared, notWritten, rows));
    }
    if (updates.length > 0) {
      const res = await timed(ctx.timings, 'updateElders', () => this.collection.bulkWrite(
        updates.map((u) => ({ updateOne: { filter: { _id: u.next._id, version: u.version } as never, update: u.update as never } })),
        { ordered: false },
      ));
      let lost = new Set<string>();
      if (res.matchedCount < updates.length) {
        // The guard refused some: find out which by the change id each winning write leaves behind.
        const after = await this.collection
          .find({ _id: { $in: updates.map((u) => u.next._id) } } as never, { projection: { changeId: 1 } })
          .toArray();
        const won = new Set(after.map((a) => a.changeId));
        lost = new Set(updates.filter((u) => !won.has(u.changeId)).map((u) => u.changeId));
      }
      for (const u of updates) {
        if (lost.has(u.changeId)) {
          retry.push(u.row);
          continue;
        }
        results[u.row.index] = { index: u.row.index, outcome: 'updated', elderId: u.next._id };
        ctx.audit.updated.push(u.next._id);
      }
    }
    if (retry.length === 0) return;
    if (attempt < MAX_BATCH_ATTEMPTS) {
      await this.upsertBatch(ctx, retry, attempt + 1);
      return;
    }
    for (const row of retry) {
      fail(row, 'idCardNumber', 'REGISTRY.CONCURRENT_UPDATE', 'the record kept changing while the batch ran; re-run this row', '导入期间档案被反复修改，请重新导入该行');
    }
  }

  // ── building blocks ─────────────────────────────────────────────────────────────────────

  /** The region an elder lives in: a registered community inside the caller's scope. Returns its path. */
  private async communityInScope(principal: Principal, code: string): Promise<string[]> {
    if (regionLevel(code) !== 'COMMUNITY') {
      throw new AppError('REGISTRY.REGION_NOT_COMMUNITY', 422, 'An elder belongs to a community (the 12-digit code of a 社区/村)', {
        field: 'regionCode',
        messageZh: '老人所属区划须为社区/村一级',
      });
    }
    await this.regions.requireInScope(principal, code, 'regionCode');
    return regionPath(code);
  }

  private newElder(profile: CheckedProfile, idCardHash: string, path: string[], today: string, correlationId: string) {
    const now = new Date();
    const doc: StoredElder = {
      _id: uuidv7(),
      name: profile.name,
      gender: profile.gender,
      birthDate: profile.birthDate,
      idCardCipher: this.vault.encrypt(profile.idCardNumber),
      idCardHash,
      phoneCipher: profile.phone ? this.vault.encrypt(profile.phone) : null,
      phoneHash: profile.phone ? this.vault.hash(profile.phone) : null,
      regionCode: profile.regionCode,
      regionPath: path,
      homeAddress: profile.homeAddress,
      home: profile.home,
      homeCell: h3Cell(profile.home),
      categories: deriveCategories(profile.categories, profile.birthDate, today),
      capabilityLevel: null,
      latestAssessment: null,
      assessmentIds: [],
      status: 'ACTIVE',
      statusSince: today,
      statusHistory: [],
      absences: [],
      absencesRev: 0,
      guardians: this.guardians(profile.guardians ?? [], []),
      preferences: { caregiverGender: profile.caregiverGender ?? null },
      version: 1,
      changeId: null,
      createdAt: now,
      updatedAt: now,
    };
    // The guardians' phones are at hand in plain text: no need to decrypt what was just encrypted.
    const plainPhones = (profile.guardians ?? []).map((g) => normalisePhone(g.phone));
    const events = [this.events.create(ElderRegistered, { key: doc._id, correlationId, payload: { elder: this.snapshot(doc, plainPhones) } })];
    return { doc, events };
  }

  /** Guardians keep their id when they are the same person (same id given, or same phone). */
  private guardians(input: GuardianInput[], current: StoredGuardian[]): StoredGuardian[] {
    return input.map((g) => {
      const phoneHash = this.vault.hash(normalisePhone(g.phone));
      const same = current.find((c) => (g.guardianId ? c.guardianId === g.guardianId : c.phoneHash === phoneHash));
      return {
        guardianId: same?.guardianId ?? g.guardianId ?? randomUUID(),
        name: g.name,
        relation: g.relation,
        phoneCipher: same?.phoneHash === phoneHash ? same.phoneCipher : this.vault.encrypt(normalisePhone(g.phone)),
        phoneHash,
      };
    });
  }

  /** What a checked profile would change on the stored record; `undefined` optional fields keep theirs. */
  private diff(current: StoredElder, p: CheckedProfile, path: string[], today: string): Changes {
    const set: Partial<StoredElder> = {};
    const changedFields: string[] = [];
    const change = (field: string, values: Partial<StoredElder>) => {
      Object.assign(set, values);
      changedFields.push(field);
    };
    if (p.name !== current.name) change('name', { name: p.name });
    if (p.gender !== current.gender) change('gender', { gender: p.gender });
    if (p.birthDate !== current.birthDate) change('birthDate', { birthDate: p.birthDate });
    const idCardHash = this.vault.hash(p.idCardNumber);
    if (idCardHash !== current.idCardHash) change('idCardNumber', { idCardHash, idCardCipher: this.vault.encrypt(p.idCardNumber) });
    if (p.phone !== undefined) {
      const phoneHash = p.phone ? this.vault.hash(p.phone) : null;
      if (phoneHash !== current.phoneHash) change('phone', { phoneHash, phoneCipher: p.phone ? this.vault.encrypt(p.phone) : null });
    }
    if (p.regionCode !== current.regionCode) change('regionCode', { regionCode: p.regionCode, regionPath: path });
    if (p.homeAddress !== current.homeAddress) change('homeAddress', { homeAddress: p.homeAddress });
    if (p.home.lat !== current.home.lat || p.home.lng !== current.home.lng) change('home', { home: p.home, homeCell: h3Cell(p.home) });
    const categories = deriveCategories(p.categories, p.birthDate, today);
    if (!sameList(categories, current.categories)) change('categories', { categories });
    if (p.guardians !== undefined) {
      const guardians = this.guardians(p.guardians, current.guardians);
      const key = (g: StoredGuardian) => `${g.guardianId}|${g.name}|${g.relation}|${g.phoneHash}`;
      if (!sameList(guardians.map(key), current.guardians.map(key))) change('guardians', { guardians });
    }
    if (p.caregiverGender !== undefined && p.caregiverGender !== current.preferences.caregiverGender) {
      change('preferences', { preferences: { caregiverGender: p.caregiverGender } });
    }
    return {
      set,
      changedFields,
      added: categories.filter((c) => !current.categories.includes(c)),
      removed: current.categories.filter((c) => !categories.includes(c)),
    };
  }

  /** The guarded update for a set of changes, with ElderUpdated (and ElderCategoriesChanged) in its outbox. */
  private changeUpdate(current: StoredElder, changes: Changes, categoriesEffectiveOn: string, correlationId: string) {
    const version = current.version + 1;
    const changeId = randomUUID();
    const next: StoredElder = { ...current, ...changes.set, version, changeId };
    const stored = packedChange(current, changes.set, next);
    if ('packed' in stored.set) (next as { packed?: unknown }).packed = stored.set['packed'];
    const elder = this.snapshot(next);
    const events = [this.events.create(ElderUpdated, { key: next._id, correlationId, payload: { elder, changedFields: changes.changedFields } })];
    if (changes.added.length > 0 || changes.removed.length > 0) {
      events.push(
        this.events.create(ElderCategoriesChanged, {
          key: next._id,
          correlationId,
          payload: { elder, added: changes.added, removed: changes.removed, effectiveOn: categoriesEffectiveOn },
        }),
      );
    }
    const update = elderOutbox({ $set: { ...stored.set, version, changeId, updatedAt: new Date() }, ...(stored.unset ? { $unset: stored.unset } : {}) }, events);
    return { next, update, changeId };
  }

  /** What other services learn: where the elder lives and whom to call — never the ID number or the elder’s phone. */
  snapshot(e: StoredElder, plainGuardianPhones?: readonly string[]): ElderSnapshot {
    return {
      elderId: e._id,
      regionCode: e.regionCode,
      regionPath: e.regionPath,
      name: e.name,
      gender: e.gender,
      birthDate: e.birthDate,
      homeAddress: e.homeAddress,
      home: e.home,
      homeCell: e.homeCell,
      categories: e.categories,
      capabilityLevel: e.capabilityLevel,
      status: e.status,
      statusSince: e.statusSince,
      guardians: e.guardians.map((g, i) => ({
        guardianId: g.guardianId,
        name: g.name,
        relation: g.relation,
        phone: plainGuardianPhones?.[i] ?? this.vault.decrypt(g.phoneCipher),
      })),
      preferences: { caregiverGender: e.preferences?.caregiverGender ?? null },
      version: e.version,
    };
  }

  toView(e: StoredElder, reveal: boolean): ElderView {
    const idCard = this.vault.decrypt(e.idCardCipher);
    const phone = e.phoneCipher ? this.vault.decrypt(e.phoneCipher) : null;
    return {
      id: e._id,
      name: e.name,
      gender: e.gender,
      birthDate: e.birthDate,
      idCardNumber: reveal ? idCard : maskIdCard(idCard),
      phone: phone && !reveal ? maskPhone(phone) : phone,
      regionCode: e.regionCode,
      regionPath: e.regionPath,
      homeAddress: e.homeAddress,
      home: e.home,
      homeCell: e.homeCell,
      categories: e.categories,
      capabilityLevel: e.capabilityLevel,
      latestAssessment: e.latestAssessment,
      status: e.status,
      statusSince: e.statusSince,
      statusHistory: e.statusHistory,
      guardians: e.guardians.map((g) => {
        const gPhone = this.vault.decrypt(g.phoneCipher);
        return { guardianId: g.guardianId, name: g.name, relation: g.relation, phone: reveal ? gPhone : maskPhone(gPhone) };
      }),
      preferences: { caregiverGender: e.preferences?.caregiverGender ?? null },
      version: e.version,
      revealed: reveal,
    };
  }
}

/**
 * Fields a new record starts with at their default value are not written (see `slimForInsert`):
 * a roster import inserts 400,000 documents and FerretDB's insert cost grows with every field.
 * Every read through this service fills them back, so callers always see the whole shape.
 */
const INSERT_DEFAULTS = {
  phoneCipher: null,
  phoneHash: null,
  capabilityLevel: null,
  latestAssessment: null,
  assessmentIds: [] as string[],
  statusHistory: [] as StatusHistoryEntry[],
  absences: [] as StoredAbsence[],
  absencesRev: 0,
  changeId: null,
} satisfies Partial<StoredElder>;

export function hydrate(doc: StoredElder): StoredElder {
  // Packed cold fields first, so a field written at the top level (a document of an older shape) wins.
  const { packed, ...top } = doc as StoredElder & { packed?: string | null };
  const d = (packed ? { ...(JSON.parse(packed) as Partial<StoredElder>), ...top, packed } : top) as Partial<StoredElder> & StoredElder;
  return {
    ...d,
    phoneCipher: d.phoneCipher ?? null,
    phoneHash: d.phoneHash ?? null,
    capabilityLevel: d.capabilityLevel ?? null,
    latestAssessment: d.latestAssessment ?? null,
    assessmentIds: d.assessmentIds ?? [],
    statusHistory: d.statusHistory ?? [],
    guardians: d.guardians ?? [],
    absences: d.absences ?? [],
    absencesRev: d.absencesRev ?? 0,
    preferences: d.preferences ?? { caregiverGender: null },
    changeId: d.changeId ?? null,
    // A new record is written without timestamps: its UUIDv7 id carries the creation time.
    createdAt: d.createdAt ?? uuidv7Time(d._id),
    updatedAt: d.updatedAt ?? d.createdAt ?? uuidv7Time(d._id),
  };
}

/** The creation time a UUIDv7 carries in its first 48 bits (older ids of other shapes: undefined). */
function uuidv7Time(id: string): Date | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7/i.test(id)) return undefined;
  return new Date(parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
}

/**
 * Profile fields no query, index or aggregation reads — only `hydrate` does, for a response, an
 * event or a diff. A new record stores them packed in ONE string field, `packed` (JSON): FerretDB's
 * insert cost follows a document's field count and nesting (ADR 0006: 1,000 imported elders insert
 * in ≈ 120 instead of ≈ 200–260 ms), and reads decode one string instead of nested objects. The
 * ciphertexts stay ciphertexts inside it. Everything a query filters, sorts or groups on stays a
 * field of its own (name, birthDate, idCardHash, regionCode/Path, homeCell, categories, status…).
 * Only `diff`/`changeUpdate` change these fields, and a change re-packs them (see packedChange).
 */
export const PACKED_FIELDS = ['gender', 'idCardCipher', 'phoneCipher', 'phoneHash', 'homeAddress', 'home', 'guardians', 'preferences'] as const;
type PackedField = (typeof PACKED_FIELDS)[number];

/** The cold fields of a record, as the one string stored (defaults left out, as in slimForInsert). */
export function packCold(doc: Partial<StoredElder>): string {
  const cold: Record<string, unknown> = {};
  for (const f of PACKED_FIELDS) {
    const v = doc[f];
    if (v === null || v === undefined) continue;
    if (f === 'guardians' && (v as unknown[]).length === 0) continue;
    if (f === 'preferences' && (v as { caregiverGender: unknown }).caregiverGender === null) continue;
    cold[f] = v;
  }
  return JSON.stringify(cold);
}

/** The document as inserted: without the fields still at their defaults (hydrate restores them), cold fields packed. */
export function slimForInsert(doc: StoredElder): Partial<StoredElder> & { packed: string } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if ((PACKED_FIELDS as readonly string[]).includes(k) || k === 'packed') continue;
    const dflt = (INSERT_DEFAULTS as Record<string, unknown>)[k];
    if (k in INSERT_DEFAULTS && (v === dflt || (Array.isArray(v) && v.length === 0 && Array.isArray(dflt)))) continue;
    if (k === 'updatedAt' || k === 'createdAt') continue;
    out[k] = v;
  }
  out['packed'] = packCold(doc);
  return out as Partial<StoredElder> & { packed: string };
}

/**
 * The `$set`/`$unset` of a change: cold fields changed on a record stored packed are written as a new
 * `packed` string (the whole cold set of the next version, so no old ciphertext lingers), and any
 * top-level copy of them is removed; hot fields are set as they are.
 */
function packedChange(current: StoredElder, set: Partial<StoredElder>, next: StoredElder): { set: Record<string, unknown>; unset?: Record<string, ''> } {
  const isPacked = typeof (current as { packed?: unknown }).packed === 'string';
  const coldChanged = PACKED_FIELDS.some((f) => f in set);
  if (!isPacked || !coldChanged) return { set: { ...set } };
  const hot: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(set)) if (!(PACKED_FIELDS as readonly string[]).includes(k)) hot[k] = v;
  hot['packed'] = packCold(next);
  return { set: hot, unset: Object.fromEntries(PACKED_FIELDS.map((f: PackedField) => [f, ''])) as Record<string, ''> };
}

export interface UpsertOptions {
  importId?: string;
  lookupFirst?: boolean;
  /** Store the new rows' event batch (prepare) while planning, ahead of the write (the importer). */
  prepareEarly?: boolean;
  /** Leave the batch's audit entry in flight: `plan.auditWrite`, to be awaited by the caller. */
  deferAudit?: boolean;
  /** The rows already passed ElderInput (the importer's own check): not parsed twice. */
  prevalidated?: boolean;
  regionCache?: RegionCache;
  /** Milliseconds spent per database step, added up (the importer reports them per run). */
  timings?: PhaseTimings;
}

/** Milliseconds per named step, summed over a run. */
export type PhaseTimings = Record<string, number>;

async function timed<T>(timings: PhaseTimings | undefined, phase: string, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  const t0 = performance.now();
  try {
    return await (typeof work === 'function' ? work() : work);
  } finally {
    if (timings) timings[phase] = (timings[phase] ?? 0) + (performance.now() - t0);
  }
}

export interface UpsertPlan {
  context: BatchContext;
  checked: BatchRow[];
  prebuilt: Map<number, { doc: StoredElder; event: PendingEvent; entry: OutboxEntry; stored: Partial<StoredElder> }>;
  /** The prebuilt rows' event batch, prepared while planning (prepareEarly). */
  early?: { elderIds: string[]; prepared: Promise<PreparedBatch> };
  lookupFirst: boolean;
  deferAudit: boolean;
  /** With deferAudit: the batch's audit write, set by applyUpsert. */
  auditWrite?: Promise<void>;
}

/** Community code → its path, or why it cannot take elders; valid for one caller within one import. */
export type RegionCache = Map<string, Promise<string[] | InputProblem>>;

interface BatchContext {
  principal: Principal;
  today: string;
  correlationId: string;
  importId: string | null;
  regionCache: Map<string, Promise<string[] | InputProblem>>;
  results: UpsertResult[];
  timings?: PhaseTimings;
  audit: { created: string[]; updated: string[] };
}

interface BatchRow {
  index: number;
  profile: CheckedProfile;
  idCardHash: string;
}

/** The batch's communities, each awaited once (not once per row). */
async function resolvePaths(cache: RegionCache, rows: readonly BatchRow[]): Promise<Map<string, string[] | InputProblem | undefined>> {
  const codes = [...new Set(rows.map((r) => r.profile.regionCode))];
  const resolved = await Promise.all(codes.map((code) => cache.get(code)));
  return new Map(codes.map((code, i) => [code, resolved[i]]));
}

function toProblem(error: unknown, field: string): InputProblem {
  if (error instanceof AppError) {
    return { field: error.options.field ?? field, code: error.code, kind: error.code, message: error.message, messageZh: error.options.messageZh ?? error.message };
  }
  throw error;
}

