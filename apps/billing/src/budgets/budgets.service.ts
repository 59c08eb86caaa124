import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { BudgetThresholdReached, FundSourceSchema, type FundSource } from '@yiyang/contracts';
import { regionPath, regionWithin } from '@yiyang/geo';
import { Events, OutboxRelay, isDuplicateKeyError, withOutbox, type OutboxEntry } from '@yiyang/messaging';
import { AppError, parseInput, REGION_ROLES, type Principal } from '@yiyang/service-kit';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { forbidden } from '../shared/scope';

export interface Budget {
  _id: string;
  fundSource: FundSource;
  year: number;
  regionCode: string;
  regionPath: string[];
  allocatedFen: number;
  /** allocated − spent: the guard every reservation checks atomically. */
  availableFen: number;
  spentFen: number;
  heldFen: number;
  /** Reservations whose journal is being written (crash-safe idempotency); emptied as charges post. */
  pending: { key: string; amountFen: number }[];
  heldKeys: string[];
  releasedKeys: string[];
  thresholds: number[];
  thresholdsReached: number[];
  version: number;
  outbox: OutboxEntry[];
  outboxPending: boolean;
}

export const budgetId = (fundSource: string, year: number, regionCode: string) => `bud:${fundSource}:${year}:${regionCode}`;

export type Reservation = 'OK' | 'HELD' | 'MISSING';

const BudgetInput = z
  .object({
    allocatedFen: z.number().int('must be integer fen').min(0).max(1_000_000_000_000),
    /** Percentages of the allocation at which BudgetThresholdReached is published. */
    thresholds: z.array(z.number().int().min(1).max(100)).max(5).default([80, 100]),
  })
  .strict();
const BudgetKey = z.object({
  fundSource: FundSourceSchema,
  year: z.coerce.number().int().min(2000).max(2100),
  regionCode: z.string().regex(/^\d{12}$/, 'must be a 12-digit region code'),
});

/**
 * Fund budgets per fund source, year and region (e.g. the central pilot fund for Lubei, 2026).
 * Charges reserve their fund share with one atomic conditional update (`availableFen ≥ amount`),
 * so two replicas can never overspend; a share that does not fit is held and reported, never paid
 * silently and never dropped. Reservations are keyed by charge, so a redelivered charge reserves once.
 */
@Injectable()
export class BudgetsService implements OnModuleInit {
  readonly budgets: Collection<Budget>;
  private cache: { at: number; all: Budget[] } | null = null;

  constructor(
    @InjectConnection() connection: Connection,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.budgets = connection.collection('budgets') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.budgets as never);
  }

  private async all(): Promise<Budget[]> {
    if (this.cache && Date.now() - this.cache.at < 2_000) return this.cache.all;
    const all = await this.budgets.find({}, { projection: { pending: 0, heldKeys: 0, releasedKeys: 0, outbox: 0 } }).toArray();
    this.cache = { at: Date.now(), all };
    return all;
  }

  /** The budget a charge draws on: that fund's, that year's, for the most specific region containing the elder. */
  async budgetFor(fundSource: FundSource, year: number, elderRegion: string): Promise<string> {
    const candidates = (await this.all()).filter((b) => b.fundSource === fundSource && b.year === year && regionWithin(elderRegion, b.regionCode));
    candidates.sort((a, b) => b.regionPath.length - a.regionPath.length);
    // No budget set up: the share is held against the id a budget would have at the elder's county.
    return candidates[0]?._id ?? budgetId(fundSource, year, elderRegion.slice(0, 6) + '000000');
  }

  async reserve(id: string, key: string, amountFen: number): Promise<Reservation> {
    if (amountFen === 0) return 'OK';
    const res = await this.budgets.updateOne(
      { _id: id, availableFen: { $gte: amountFen }, 'pending.key': { $ne: key }, heldKeys: { $ne: key } } as never,
      { $inc: { availableFen: -amountFen, spentFen: amountFen }, $push: { pending: { key, amountFen } } } as never,
    );
    if (res.matchedCount === 1) {
      await this.checkThresholds(id);
      return 'OK';
    }
    const doc = await this.budgets.findOne({ _id: id });
    if (!doc) return 'MISSING';
    if (doc.pending.some((p) => p.key === key)) return 'OK'; // reserved by an earlier attempt of this charge
    if (doc.heldKeys.includes(key)) return 'HELD';
    await this.budgets.updateOne({ _id: id, heldKeys: { $ne: key } } as never, { $inc: { heldFen: amountFen }, $push: { heldKeys: key } } as never);
    await this.checkThresholds(id);
    return 'HELD';
  }

  /** After the journal is stored the reservation is part of the ledger; drop the in-flight marker. */
  async settle(id: string, key: string, amountFen: number): Promise<void> {
    if (amountFen === 0) return;
    await this.budgets.updateOne({ _id: id }, { $pullAll: { pending: [{ key, amountFen }] } } as never);
  }

  /** Gives a reversed charge's share back to the budget, once. */
  async giveBack(id: string, key: string, amountFen: number): Promise<void> {
    if (amountFen === 0) return;
    await this.budgets.updateOne(
      { _id: id, releasedKeys: { $ne: key } } as never,
      { $inc: { availableFen: amountFen, spentFen: -amountFen }, $push: { releasedKeys: key } } as never,
    );
  }

  /** A reversed charge whose share was held: it no longer waits for the budget. */
  async unhold(id: string, key: string, amountFen: number): Promise<void> {
    await this.budgets.updateOne(
      { _id: id, heldKeys: key, releasedKeys: { $ne: key } } as never,
      { $inc: { heldFen: -amountFen }, $push: { releasedKeys: key } } as never,
    );
  }

  private async checkThresholds(id: string): Promise<void> {
    const b = await this.budgets.findOne({ _id: id }, { projection: { pending: 0, heldKeys: 0, releasedKeys: 0, outbox: 0 } });
    if (!b) return;
    for (const t of b.thresholds) {
      const reached = b.spentFen * 100 >= t * b.allocatedFen || (t === 100 && b.heldFen > 0);
      if (!reached || b.thresholdsReached.includes(t)) continue;
      const event = this.events.create(BudgetThresholdReached, {
        key: id,
        correlationId: `budget:${id}`,
        payload: { budgetId: id, fundSource: b.fundSource, year: b.year, regionCode: b.regionCode, thresholdPercent: t, allocatedFen: b.allocatedFen, spentFen: b.spentFen, heldFen: b.heldFen },
      });
      await this.budgets.updateOne({ _id: id, thresholdsReached: { $ne: t } } as never, withOutbox({ $push: { thresholdsReached: t } }, [event]) as never);
      this.relay.nudge();
    }
  }

  /** Creates a budget or changes its allocation (the difference moves `availableFen` atomically). */
  async put(principal: Principal, params: unknown, body: unknown): Promise<Budget> {
    const key = parseInput(BudgetKey, params);
    const input = parseInput(BudgetInput, body);
    if (principal.role !== 'civil_affairs_admin' || !principal.regionCode || !regionWithin(key.regionCode, principal.regionCode)) throw forbidden();
    const _id = budgetId(key.fundSource, key.year, key.regionCode);
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.budgets.findOne({ _id });
      if (!existing) {
        const doc: Budget = {
          _id, ...key, regionPath: regionPath(key.regionCode), allocatedFen: input.allocatedFen, availableFen: input.allocatedFen, spentFen: 0, heldFen: 0,
          pending: [], heldKeys: [], releasedKeys: [], thresholds: input.thresholds, thresholdsReached: [], version: 1, outbox: [], outboxPending: false,
        };
        try {
          await this.budgets.insertOne(doc);
          this.cache = null;
          return doc;
        } catch (error) {
          if (isDuplicateKeyError(error)) continue;
          throw error;
        }
      }
      const delta = input.allocatedFen - existing.allocatedFen;
      if (existing.availableFen + delta < 0) {
        throw new AppError('BILLING.BUDGET_BELOW_SPENT', 422, `Allocation cannot go below what is already spent (${existing.spentFen} fen)`, {
          field: 'allocatedFen',
          messageZh: `预算不能低于已支出金额（${existing.spentFen} 分）`,
        });
      }
      // Raising the allocation re-arms thresholds that are no longer reached.
      const rearmed = existing.thresholdsReached.filter((t) => existing.spentFen * 100 >= t * input.allocatedFen);
      const res = await this.budgets.updateOne(
        { _id, version: existing.version },
        { $inc: { availableFen: delta, version: 1 }, $set: { allocatedFen: input.allocatedFen, thresholds: input.thresholds, thresholdsReached: rearmed } },
      );
      if (res.matchedCount === 1) {
        this.cache = null;
        return (await this.budgets.findOne({ _id }))!;
      }
    }
    throw new AppError('BILLING.CONCURRENT_UPDATE', 409, 'Budget changed meanwhile; retry', { messageZh: '预算已被修改，请重试' });
  }

  async list(principal: Principal, year?: number) {
    const visible = (await this.budgets.find(year ? { year } : {}, { projection: { pending: 0, heldKeys: 0, releasedKeys: 0, outbox: 0, outboxPending: 0 } }).toArray()).filter(
      (b) => !REGION_ROLES.includes(principal.role) || (principal.regionCode && (b.regionPath.includes(principal.regionCode) || regionWithin(principal.regionCode, b.regionCode))),
    );
    return visible.map((b) => ({
      ...b,
      utilisationPercent: b.allocatedFen === 0 ? null : Math.round((b.spentFen * 1000) / b.allocatedFen) / 10,
    }));
  }
}
