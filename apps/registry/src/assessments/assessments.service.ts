import { createHash } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { CapabilityLevels } from '@yiyang/contracts';
import { isDuplicateKeyError } from '@yiyang/messaging';
import { AppError, parseInput, type Principal, PageQuery, type Page } from '@yiyang/service-kit';
import type { Model } from 'mongoose';
import { z } from 'zod';
import type { RequestOrigin } from '../audit/audit.service';
import { chinaDate } from '../elders/domain/age';
import type { LatestAssessment } from '../elders/elder.schema';
import { EldersService } from '../elders/elders.service';
import { Assessment } from './assessment.schema';
import { ADJUSTMENTS, checkItems, INDICATORS, scoreAssessment, STANDARD, STANDARD_VERSION } from './domain/gbt-42195-2022';

export const AssessmentInput = z.strictObject({
  items: z.record(z.string(), z.unknown()),
  assessedOn: z.iso.date('must be a date YYYY-MM-DD'),
  assessor: z.string().trim().min(1).max(50),
  flags: z
    .strictObject({
      coma: z.boolean().default(false),
      diagnosedDementiaOrMentalDisorder: z.boolean().default(false),
      riskEventsLast30Days: z.number().int().min(0).max(1_000).default(0),
    })
    .default({ coma: false, diagnosedDementiaOrMentalDisorder: false, riskEventsLast30Days: 0 }),
});

const IDEMPOTENCY_KEY = /^[\w.:-]{8,128}$/;
/** A recording stored but not applied for this long is taken to have lost its request. */
const STRAGGLER_AFTER_MS = 60_000;
const SWEEP_EVERY_MS = 5 * 60_000;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const toView = (a: Assessment) => ({
  id: a._id,
  elderId: a.elderId,
  standard: a.standard,
  standardVersion: a.standardVersion,
  assessedOn: a.assessedOn,
  assessor: a.assessor,
  items: a.items,
  subtotals: Object.fromEntries(
    Object.entries(a.subtotals).map(([k, v]) => [k, { score: v, max: INDICATORS[k as keyof typeof INDICATORS].max, labelZh: INDICATORS[k as keyof typeof INDICATORS].zh }]),
  ),
  total: a.total,
  levelByTotal: a.levelByTotal,
  level: a.level,
  levelZh: CapabilityLevels.labels[a.level].zh,
  adjustments: a.adjustments.map((j) => ({ ...j, labelZh: ADJUSTMENTS[j.code].zh })),
  flags: a.flags,
  recordedBy: a.recordedBy,
  recordedAt: a.recordedAt.toISOString(),
});
export type AssessmentView = ReturnType<typeof toView>;

@Injectable()
export class AssessmentsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(AssessmentsService.name);
  private sweepTimer?: NodeJS.Timeout;

  constructor(
    @InjectModel(Assessment.name) private readonly assessments: Model<Assessment>,
    private readonly elders: EldersService,
  ) {}

  onApplicationBootstrap(): void {
    this.sweepTimer = setInterval(() => {
      this.applyStragglers(new Date()).catch((error: unknown) => this.log.error({ err: error }, 'applying stored assessments failed; next sweep retries'));
    }, SWEEP_EVERY_MS);
    this.sweepTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweepTimer);
  }

  /**
   * Two collections, no transaction: the assessment is stored first under a deterministic id, then
   * applied to the elder by a guarded, idempotent update. A retry of the same request finds the
   * stored assessment and finishes the second step; a crash in between is finished by the sweeper.
   */
  async record(principal: Principal, elderId: string, body: unknown, idempotencyKey: string | undefined, origin: RequestOrigin) {
    if (principal.role !== 'civil_affairs_admin' && principal.role !== 'assessor') {
      throw new AppError('AUTH.FORBIDDEN', 403, 'Only civil-affairs staff and assessors record assessments', { messageZh: '仅民政管理员和评估员可记录评估' });
    }
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new AppError('VALIDATION.INVALID_INPUT', 400, 'Idempotency-Key must be 8–128 letters, digits or ._:-', {
        field: 'Idempotency-Key',
        messageZh: 'Idempotency-Key 格式无效',
      });
    }
    const input = parseInput(AssessmentInput, body);
    const problem = checkItems(input.items);
    if (problem) throw new AppError('REGISTRY.ASSESSMENT_ITEM_INVALID', 400, `${problem.field}: ${problem.message}`, { field: problem.field, messageZh: problem.messageZh });
    const items = input.items as Record<string, number>;
    const elder = await this.elders.findReadable(principal, elderId);
    if (elder.status === 'DECEASED') {
      throw new AppError('REGISTRY.ELDER_DECEASED', 409, 'The elder is recorded as deceased; the record is final', { messageZh: '该老人已登记为去世，档案不可再修改' });
    }
    if (input.assessedOn > chinaDate(new Date()) || input.assessedOn < elder.birthDate) {
      throw new AppError('REGISTRY.ASSESSMENT_DATE_INVALID', 400, 'assessedOn must not lie in the future or before the birth date', {
        field: 'assessedOn',
        messageZh: '评估日期不能晚于今天或早于出生日期',
      });
    }
    const scoring = scoreAssessment(items, input.flags);
    const digest = sha(JSON.stringify([Object.entries(items).sort(), input.assessedOn, input.assessor, input.flags]));
    const id = idempotencyKey ? sha(`${elderId}|key|${idempotencyKey}`).slice(0, 32) : sha(`${elderId}|${input.assessedOn}|${input.assessor}`).slice(0, 32);
    const doc: Assessment = {
      _id: id,
      elderId,
      regionPath: elder.regionPath,
      standard: STANDARD,
      standardVersion: STANDARD_VERSION,
      items,
      subtotals: scoring.subtotals,
      total: scoring.total,
      levelByTotal: scoring.levelByTotal,
      level: scoring.level,
      adjustments: scoring.adjustments,
      flags: input.flags,
      assessedOn: input.assessedOn,
      assessor: input.assessor,
      recordedBy: { userId: principal.userId, role: principal.role },
      recordedAt: new Date(),
      digest,
      appliedToElder: false,
    };
    let stored = doc;
    try {
      await this.assessments.collection.insertOne(doc as never);
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const first = await this.assessments.findById(id).lean();
      if (!first || first.elderId !== elderId || first.digest !== digest) {
        throw new AppError('REGISTRY.ASSESSMENT_CONFLICT', 409, 'An assessment with this key (or by this assessor on this date) was recorded with different content', {
          field: idempotencyKey ? 'Idempotency-Key' : 'assessedOn',
          messageZh: '该评估（同一评估员同一日期或同一幂等键）已以不同内容记录',
        });
      }
      stored = first;
    }
    const updated = await this.elders.applyAssessment(principal, elderId, summaryOf(stored), origin);
    await this.assessments.updateOne({ _id: id }, { $set: { appliedToElder: true } });
    return { assessment: toView(stored), elder: { id: elderId, capabilityLevel: updated.capabilityLevel, version: updated.version } };
  }

  async list(principal: Principal, elderId: string, query: unknown): Promise<Page<AssessmentView>> {
    const page = parseInput(PageQuery, query);
    await this.elders.findReadable(principal, elderId);
    const filter = { elderId };
    const [docs, total] = await Promise.all([
      this.assessments
        .find(filter)
        .sort({ assessedOn: -1, recordedAt: -1 })
        .skip((page.page - 1) * page.pageSize)
        .limit(page.pageSize)
        .lean(),
      this.assessments.countDocuments(filter),
    ]);
    return { items: docs.map(toView), page: page.page, pageSize: page.pageSize, total };
  }

  /** Finishes assessments whose request died between the two writes. Idempotent, so replicas may overlap. */
  async applyStragglers(now: Date): Promise<number> {
    const stragglers = await this.assessments
      .find({ appliedToElder: false, recordedAt: { $lt: new Date(now.getTime() - STRAGGLER_AFTER_MS) } })
      .limit(200)
      .lean();
    for (const a of stragglers) {
      // Acts with the recorder's role, scoped to the assessment's own province: the record was authorised when stored.
      const principal: Principal = { userId: `system:${a.recordedBy.userId}`, role: 'assessor', regionCode: a.regionPath[0] };
      try {
        await this.elders.applyAssessment(principal, a.elderId, summaryOf(a), { correlationId: `assessment-${a._id}` });
        await this.assessments.updateOne({ _id: a._id }, { $set: { appliedToElder: true } });
      } catch (error) {
        this.log.warn({ err: error, assessmentId: a._id }, 'stored assessment could not be applied yet');
      }
    }
    return stragglers.length;
  }
}

function summaryOf(a: Assessment): LatestAssessment {
  return { assessmentId: a._id, standard: a.standard, standardVersion: a.standardVersion, total: a.total, level: a.level, assessedOn: a.assessedOn };
}
