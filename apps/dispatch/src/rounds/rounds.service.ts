import { Body, Controller, Get, HttpCode, Injectable, Module, Param, Post, Put, Query, Req, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ElderCategorySchema, RegionCodeSchema, RoundAssigned, RoundCompleted, RoundDue, RoundOverdue, type RoundSnapshot } from '@yiyang/contracts';
import { regionPath } from '@yiyang/geo';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type OutboxEntry, type PendingEvent } from '@yiyang/messaging';
import { AllowRoles, AppError, CurrentPrincipal, ensureIndexes, parseInput, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { DutyWorkersModule, DutyWorkersService } from '../duty-workers/duty-workers.service';
import { EmergenciesModule } from '../emergencies/emergencies.controller';
import { EmergenciesService } from '../emergencies/emergencies.service';
import { OrdersModule } from '../orders/orders.module';
import { OrdersService } from '../orders/orders.service';
import { ReadModels } from '../read-models/read-models.service';
import { Scheduler } from '../scheduler/scheduler.service';
import { PageQuery } from '../shared/inputs';
import { Actor, concurrentUpdate, forbidden, inRegion, notFound } from '../shared/scope';
import { addDays, chinaDate, daysBetween } from '../shared/time';

export interface RoundRule {
  _id: string;
  /** The region (county, street or community) whose elders the rule covers. */
  regionCode: string;
  regionPath: string[];
  name: string;
  /** An elder matches when they are in ALL these categories (e.g. LIVING_ALONE + ADVANCED_AGE). */
  allOf: string[];
  minAge: number | null;
  everyDays: number;
  active: boolean;
  version: number;
}
interface RoundDoc extends Omit<RoundSnapshot, 'roundId' | 'completedAt'> {
  _id: string;
  completedAt: Date | null;
  outbox: OutboxEntry[];
  outboxPending: boolean;
}

const RuleInput = z.object({
  regionCode: RegionCodeSchema,
  name: z.string().trim().min(1).max(80),
  allOf: z.array(ElderCategorySchema).min(1).max(9),
  minAge: z.number().int().min(60).max(120).nullable().default(null),
  everyDays: z.number().int().min(1).max(366),
  active: z.boolean().default(true),
});
const CompleteInput = z
  .object({
    finding: z.enum(['FINE', 'NEEDS_SERVICE', 'URGENT']),
    notes: z.string().trim().max(2000).default(''),
    /** The service the elder needs (NEEDS_SERVICE). */
    itemCode: z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.finding === 'NEEDS_SERVICE' && !v.itemCode) ctx.addIssue({ code: 'custom', path: ['itemCode'], message: 'required when the finding is NEEDS_SERVICE' });
  });
const ListQuery = PageQuery.extend({ mine: z.enum(['1', 'true']).optional(), state: z.enum(['DUE', 'ASSIGNED', 'COMPLETED', 'OVERDUE']).optional() });

/** The period (of `everyDays`) a date falls in, counted from 2024-01-01 so every replica agrees. */
export function periodOf(date: string, everyDays: number): { periodStart: string; dueOn: string } {
  const n = Math.floor(daysBetween('2024-01-01', date) / everyDays);
  const periodStart = addDays('2024-01-01', n * everyDays);
  return { periodStart, dueOn: addDays(periodStart, everyDays - 1) };
}

export function ageOn(birthDate: string, date: string): number {
  const age = Number(date.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return date.slice(5) < birthDate.slice(5) ? age - 1 : age;
}

/**
 * Visiting rounds (巡访): rules by category, rounds generated per period with deterministic ids
 * (`r-<rule>-<elder>-<periodStart>`), assigned to the community's duty workers / social workers /
 * volunteers, findings with follow-up (order or emergency), overdue rounds surfaced per community.
 */
@Injectable()
export class RoundsService implements OnModuleInit {
  readonly rules: Collection<RoundRule>;
  readonly rounds: Collection<RoundDoc>;

  constructor(
    @InjectConnection() connection: Connection,
    private readonly rm: ReadModels,
    private readonly orders: OrdersService,
    private readonly emergencies: EmergenciesService,
    private readonly duty: DutyWorkersService,
    private readonly scheduler: Scheduler,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.rules = connection.collection<RoundRule>('round_rules') as never;
    this.rounds = connection.collection<RoundDoc>('rounds') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.relay.register(this.rounds as never);
    await ensureIndexes(this.rounds as never, ['state', 'regionPath', 'assigneeId']);
    this.scheduler.on('rounds', async () => {
      await this.generate(null);
      await this.markOverdue();
      return new Date(Date.now() + 30 * 60_000);
    });
    await this.scheduler.ensure('rounds:generate', 'rounds', 'all', new Date(Date.now() + 60_000));
  }

  snapshot(r: RoundDoc): RoundSnapshot {
    const { _id, outbox: _o, outboxPending: _p, completedAt, ...rest } = r;
    return { roundId: _id, ...rest, completedAt: completedAt?.toISOString() ?? null };
  }

  // ── rules ──

  async putRule(principal: Principal, ruleId: string, body: unknown) {
    const input = parseInput(RuleInput, body);
    const path = regionPath(input.regionCode);
    if (!inRegion(principal, path)) throw forbidden();
    const existing = await this.rules.findOne({ _id: ruleId });
    if (existing && !inRegion(principal, existing.regionPath)) throw forbidden();
    const rule = { ...input, regionPath: path, version: (existing?.version ?? 0) + 1 };
    await this.rules.updateOne({ _id: ruleId }, { $set: rule }, { upsert: true });
    return { ruleId, ...rule };
  }

  async listRules(principal: Principal) {
    if (!principal.regionCode) throw forbidden();
    const items = await this.rules.find({ regionPath: principal.regionCode }).sort({ _id: 1 }).toArray();
    return { items: items.map(({ _id, ...r }) => ({ ruleId: _id, ...r })) };
  }

  // ── generation ──

  /** Generates the current period's rounds for every active rule (inside `scope` when given). Returns how many were new. */
  async generate(scope: string | null, today = chinaDate(new Date())): Promise<number> {
    const rules = await this.rules.find(scope ? { active: true, regionPath: scope } : { active: true }).toArray();
    let created = 0;
    for (const rule of rules) {
      const { periodStart, dueOn } = periodOf(today, rule.everyDays);
      const assignees = new Map<string, { ids: string[]; next: number }>();
      const docs: RoundDoc[] = [];
      for await (const elder of this.rm.elders.find({ regionPath: rule.regionCode, status: 'ACTIVE', categories: { $all: rule.allOf } } as never)) {
        if (rule.minAge !== null && ageOn(elder.birthDate, today) < rule.minAge) continue;
        const assigneeId = await this.pickAssignee(elder.regionCode, elder.regionPath, assignees);
        docs.push({
          _id: `r-${rule._id}-${elder._id}-${periodStart}`,
          ruleId: rule._id,
          elderId: elder._id,
          regionCode: elder.regionCode,
          regionPath: elder.regionPath,
          dueOn,
          periodStart,
          state: assigneeId ? 'ASSIGNED' : 'DUE',
          assigneeId,
          finding: null,
          notes: null,
          completedAt: null,
          followUpOrderId: null,
          followUpEmergencyId: null,
          version: 1,
          outbox: [],
          outboxPending: false,
        });
      }
      for (let i = 0; i < docs.length; i += 500) {
        const batch = docs.slice(i, i + 500).map((r) => ({ ...r, ...outboxFields([this.events.create(RoundDue, { key: r._id, correlationId: `rounds-${rule._id}-${periodStart}`, payload: { round: this.snapshot(r) } })]) }));
        try {
          const res = await this.rounds.insertMany(batch as never, { ordered: false });
          created += res.insertedCount;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          created += (error as { insertedCount?: number; result?: { insertedCount?: number } }).insertedCount ?? (error as { result?: { insertedCount?: number } }).result?.insertedCount ?? 0;
        }
      }
    }
    if (created) this.relay.nudge();
    return created;
  }

  /** Round-robin over the community's duty workers (who can log in) and its social workers / volunteers. */
  private async pickAssignee(community: string, path: readonly string[], cache: Map<string, { ids: string[]; next: number }>): Promise<string | null> {
    let pool = cache.get(community);
    if (!pool) {
      const ids = new Set<string>();
      for (const d of await this.duty.forCommunity(path)) if (d.caregiverId) ids.add(d.caregiverId);
      for (const c of this.rm.caregivers.all()) if (c.active && c.regionCode === community && (c.kind === 'SOCIAL_WORKER' || c.kind === 'VOLUNTEER')) ids.add(c.caregiverId);
      pool = { ids: [...ids].sort(), next: 0 };
      cache.set(community, pool);
    }
    if (pool.ids.length === 0) return null;
    return pool.ids[pool.next++ % pool.ids.length];
  }

  async markOverdue(today = chinaDate(new Date())): Promise<number> {
    let n = 0;
    for await (const r of this.rounds.find({ state: { $in: ['DUE', 'ASSIGNED'] }, dueOn: { $lt: today } })) {
      const next: RoundDoc = { ...r, state: 'OVERDUE', version: r.version + 1 };
      const days = Math.max(1, daysBetween(r.dueOn, today));
      try {
        await this.save(next, r.version, [this.events.create(RoundOverdue, { key: r._id, correlationId: r._id, payload: { round: this.snapshot(next), daysOverdue: days } })]);
        n++;
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
      }
    }
    return n;
  }

  private async save(next: RoundDoc, readVersion: number, events: PendingEvent[]): Promise<void> {
    const { _id, outbox: _o, outboxPending: _p, ...rest } = next;
    const res = await this.rounds.updateOne({ _id, version: readVersion }, withOutbox({ $set: rest }, events) as never);
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.relay.nudge();
  }

  // ── working rounds ──

  private mayWork(principal: Principal, r: RoundDoc): boolean {
    if (principal.role === 'caregiver') return !!principal.caregiverId && r.assigneeId === principal.caregiverId;
    return (principal.role === 'civil_affairs_admin' || principal.role === 'auditor') && inRegion(principal, r.regionPath);
  }

  private async load(principal: Principal, roundId: string): Promise<RoundDoc> {
    const r = await this.rounds.findOne({ _id: roundId });
    if (!r || !this.mayWork(principal, r)) throw notFound('DISPATCH.ROUND_NOT_FOUND', 'Round', '巡访任务');
    return r;
  }

  async assign(principal: Principal, roundId: string, body: unknown, correlationId: string) {
    const { assigneeId } = parseInput(z.object({ assigneeId: z.string().min(1) }), body);
    const r = await this.load(principal, roundId);
    if (principal.role !== 'civil_affairs_admin') throw forbidden();
    if (r.state === 'COMPLETED') throw new AppError('DISPATCH.ROUND_CLOSED', 409, 'Round is COMPLETED', { messageZh: '巡访任务已完成', details: { currentState: r.state } });
    const next: RoundDoc = { ...r, assigneeId, state: r.state === 'OVERDUE' ? 'OVERDUE' : 'ASSIGNED', version: r.version + 1 };
    await this.save(next, r.version, [this.events.create(RoundAssigned, { key: r._id, correlationId, payload: { round: this.snapshot(next) } })]);
    return this.snapshot(next);
  }

  async complete(principal: Principal, roundId: string, body: unknown, correlationId: string) {
    const input = parseInput(CompleteInput, body);
    const r = await this.load(principal, roundId);
    if (principal.role === 'auditor') throw forbidden();
    if (r.state === 'COMPLETED') throw new AppError('DISPATCH.ROUND_CLOSED', 409, 'Round is COMPLETED', { messageZh: '巡访任务已完成', details: { currentState: r.state } });
    const elder = await this.rm.elder(r.elderId);
    if (!elder) throw notFound('DISPATCH.ELDER_NOT_FOUND', 'Elder', '老年人');
    let followUpOrderId: string | null = null;
    let followUpEmergencyId: string | null = null;
    // Follow-ups have deterministic ids, so a retried completion never doubles them.
    if (input.finding === 'NEEDS_SERVICE') {
      const placed = await this.orders.placeFor(
        elder,
        { elderId: elder._id, itemCode: input.itemCode as string, window: { asap: true }, notes: `巡访发现：${input.notes}`.slice(0, 500), priority: 'NORMAL' },
        { source: 'ROUND', placedBy: Actor(principal), roundId: r._id, orderId: `o-${r._id}`, correlationId },
      );
      followUpOrderId = placed.order._id;
    }
    if (input.finding === 'URGENT') followUpEmergencyId = await this.emergencies.raiseForRound(elder, r._id, correlationId);
    const next: RoundDoc = { ...r, state: 'COMPLETED', finding: input.finding, notes: input.notes, completedAt: new Date(), followUpOrderId, followUpEmergencyId, assigneeId: r.assigneeId ?? principal.caregiverId ?? null, version: r.version + 1 };
    await this.save(next, r.version, [this.events.create(RoundCompleted, { key: r._id, correlationId, payload: { round: this.snapshot(next) } })]);
    return this.snapshot(next);
  }

  async list(principal: Principal, query: unknown) {
    const q = parseInput(ListQuery, query);
    let filter: Record<string, unknown>;
    if (principal.role === 'caregiver') filter = { assigneeId: principal.caregiverId };
    else if ((principal.role === 'civil_affairs_admin' || principal.role === 'auditor') && principal.regionCode) filter = { regionPath: principal.regionCode };
    else throw forbidden();
    if (q.state) filter = { $and: [filter, { state: q.state }] };
    const [items, total] = await Promise.all([
      this.rounds.find(filter as never, { projection: { outbox: 0 } }).sort({ dueOn: 1, _id: 1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).toArray(),
      this.rounds.countDocuments(filter as never),
    ]);
    return { items: items.map((r) => this.snapshot(r)), page: q.page, pageSize: q.pageSize, total };
  }

  /** Overdue rounds per community in the caller's region (what a street office chases). */
  async overdueReport(principal: Principal, regionCode?: string) {
    if (!principal.regionCode || (principal.role !== 'civil_affairs_admin' && principal.role !== 'auditor')) throw forbidden();
    const root = regionCode ? parseInput(RegionCodeSchema, regionCode) : principal.regionCode;
    if (!regionPath(root).includes(principal.regionCode)) throw forbidden();
    const per = new Map<string, { regionCode: string; overdue: number; open: number; completed: number; oldestDueOn: string | null }>();
    for await (const r of this.rounds.find({ regionPath: root }, { projection: { regionCode: 1, state: 1, dueOn: 1 } })) {
      const row = per.get(r.regionCode) ?? { regionCode: r.regionCode, overdue: 0, open: 0, completed: 0, oldestDueOn: null };
      if (r.state === 'OVERDUE') {
        row.overdue++;
        if (!row.oldestDueOn || r.dueOn < row.oldestDueOn) row.oldestDueOn = r.dueOn;
      } else if (r.state === 'COMPLETED') row.completed++;
      else row.open++;
      per.set(r.regionCode, row);
    }
    const communities = [...per.values()].sort((a, b) => b.overdue - a.overdue || a.regionCode.localeCompare(b.regionCode));
    return { regionCode: root, totalOverdue: communities.reduce((s, c) => s + c.overdue, 0), communities };
  }
}

@ApiTags('rounds 巡访')
@ApiBearerAuth()
@Controller()
export class RoundsController {
  constructor(private readonly rounds: RoundsService) {}

  @Put('round-rules/:ruleId')
  @AllowRoles('civil_affairs_admin')
  @ApiOperation({ summary: 'A rule: elders in ALL of `allOf` (and minAge) in `regionCode` are visited every `everyDays` days.' })
  putRule(@CurrentPrincipal() p: Principal, @Param('ruleId') ruleId: string, @Body() body: unknown) {
    return this.rounds.putRule(p, ruleId, body);
  }

  @Get('round-rules')
  @AllowRoles('civil_affairs_admin', 'auditor')
  rules(@CurrentPrincipal() p: Principal) {
    return this.rounds.listRules(p);
  }

  @Post('rounds/generate')
  @HttpCode(200)
  @AllowRoles('civil_affairs_admin')
  async generate(@CurrentPrincipal() p: Principal) {
    if (!p.regionCode) throw forbidden();
    return { created: await this.rounds.generate(p.regionCode), overdueMarked: await this.rounds.markOverdue() };
  }

  @Get('rounds/overdue')
  @AllowRoles('civil_affairs_admin', 'auditor')
  overdue(@CurrentPrincipal() p: Principal, @Query('regionCode') regionCode?: string) {
    return this.rounds.overdueReport(p, regionCode);
  }

  @Get('rounds')
  @AllowRoles('caregiver', 'civil_affairs_admin', 'auditor')
  list(@CurrentPrincipal() p: Principal, @Query() q: Record<string, unknown>) {
    return this.rounds.list(p, q);
  }

  @Post('rounds/:roundId/assign')
  @HttpCode(200)
  @AllowRoles('civil_affairs_admin')
  assign(@CurrentPrincipal() p: Principal, @Param('roundId') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.rounds.assign(p, id, body, String(req.id));
  }

  @Post('rounds/:roundId/complete')
  @HttpCode(200)
  @AllowRoles('caregiver', 'civil_affairs_admin')
  @ApiOperation({ summary: 'Record the finding: FINE, NEEDS_SERVICE (creates an order) or URGENT (raises an emergency).' })
  complete(@CurrentPrincipal() p: Principal, @Param('roundId') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.rounds.complete(p, id, body, String(req.id));
  }
}

@Module({ imports: [OrdersModule, EmergenciesModule, DutyWorkersModule], controllers: [RoundsController], providers: [RoundsService], exports: [RoundsService] })
export class RoundsModule {}
