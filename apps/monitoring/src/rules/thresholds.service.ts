import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectModel } from '@nestjs/mongoose';
import { AppError, parseInput, type Principal } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { RegistryFacts } from '../registry-facts/registry-facts.service';
import { inRegionScope, notFound } from '../shared/scope';
import { DEFAULT_THRESHOLDS, type Thresholds } from './domain/rules';
import { AlertThresholdDoc } from './rule-state.schema';

const ThresholdInput = z
  .object({
    hrMin: z.number().int().min(20).max(120),
    hrMax: z.number().int().min(60).max(250),
    spo2Min: z.number().int().min(70).max(99),
    sysMin: z.number().int().min(60).max(140),
    sysMax: z.number().int().min(100).max(260),
    diaMax: z.number().int().min(60).max(160),
    gluMin: z.number().min(2).max(8),
    gluMax: z.number().min(6).max(35),
    consecutive: z.number().int().min(1).max(20),
    inactivityHours: z.number().min(1).max(72),
    lowBatteryPct: z.number().int().min(1).max(50),
  })
  .partial()
  .strict()
  .superRefine((t, ctx) => {
    const pairs: [keyof Thresholds, keyof Thresholds][] = [['hrMin', 'hrMax'], ['sysMin', 'sysMax'], ['gluMin', 'gluMax']];
    const merged = { ...DEFAULT_THRESHOLDS, ...t };
    for (const [lo, hi] of pairs) {
      if (merged[lo] >= merged[hi]) ctx.addIssue({ code: 'custom', path: [lo], message: `must be below ${hi} (${merged[hi]})` });
    }
  });

export interface ThresholdsView {
  elderId: string;
  thresholds: Thresholds;
  /** Which fields are the elder's own (the others are the platform default). */
  custom: string[];
  updatedAt: string | null;
}

/**
 * Per-elder alert thresholds (a heart patient's range is not everyone's). Kept in memory for the
 * rule engine; replicas pick up changes made elsewhere on their refresh.
 */
@Injectable()
export class ThresholdsService implements OnModuleInit, OnApplicationShutdown {
  private readonly byElder = new Map<string, Thresholds>();
  private refreshedUntil = new Date(0);
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectModel(AlertThresholdDoc.name) private readonly docs: Model<AlertThresholdDoc>,
    private readonly facts: RegistryFacts,
    @Inject(ConfigService) private readonly config: ConfigService,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), Number(this.config.get('DIRECTORY_REFRESH_MS')));
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  of(elderId: string | null): Thresholds {
    return (elderId && this.byElder.get(elderId)) || DEFAULT_THRESHOLDS;
  }

  async get(principal: Principal, elderId: string): Promise<ThresholdsView> {
    this.requireElder(principal, elderId);
    const doc = await this.docs.findById(elderId).lean();
    return { elderId, thresholds: { ...DEFAULT_THRESHOLDS, ...(doc?.thresholds ?? {}) }, custom: Object.keys(doc?.thresholds ?? {}), updatedAt: doc ? new Date(doc.updatedAt).toISOString() : null };
  }

  /** Replaces the elder's own thresholds (an empty body returns the elder to the defaults). */
  async put(principal: Principal, elderId: string, body: unknown): Promise<ThresholdsView> {
    const elder = this.requireElder(principal, elderId);
    const input = parseInput(ThresholdInput, body);
    const updatedAt = new Date();
    await this.docs.updateOne(
      { _id: elderId },
      { $set: { regionPath: elder.regionPath, thresholds: input, updatedBy: principal.userId, updatedAt } },
      { upsert: true },
    );
    this.byElder.set(elderId, { ...DEFAULT_THRESHOLDS, ...input });
    return { elderId, thresholds: { ...DEFAULT_THRESHOLDS, ...input }, custom: Object.keys(input), updatedAt: updatedAt.toISOString() };
  }

  async refresh(): Promise<void> {
    const now = new Date(Date.now() - 5_000);
    for (const d of await this.docs.find({ updatedAt: { $gte: this.refreshedUntil } }).lean()) {
      this.byElder.set(d._id, { ...DEFAULT_THRESHOLDS, ...d.thresholds });
    }
    this.refreshedUntil = now;
  }

  private requireElder(principal: Principal, elderId: string) {
    const elder = this.facts.elder(elderId);
    if (!elder || !inRegionScope(principal, elder.regionPath)) throw notFound('MONITORING.ELDER_NOT_FOUND', 'Elder', '老人');
    if (elder.status !== 'ACTIVE') throw new AppError('MONITORING.ELDER_INACTIVE', 422, `The elder is ${elder.status}`, { messageZh: '该老人已不在册' });
    return elder;
  }
}
