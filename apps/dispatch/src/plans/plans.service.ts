import { Body, Controller, Get, HttpCode, Inject, Injectable, Logger, Module, Param, Post, Query, Req, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles, AppError, CurrentPrincipal, parseInput, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import type { Collection, Connection } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { OrdersModule } from '../orders/orders.module';
import { OrdersService, SYSTEM } from '../orders/orders.service';
import { ReadModels } from '../read-models/read-models.service';
import { Scheduler } from '../scheduler/scheduler.service';
import { PageQuery } from '../shared/inputs';
import { Actor, actsForElder, forbidden, inRegion, isRegionRole, notFound } from '../shared/scope';
import { addDays, chinaDate, chinaInstant, weekdayOf } from '../shared/time';

export interface PlanDoc {
  _id: string;
  elderId: string;
  regionPath: string[];
  itemCode: string;
  /** DAILY, or WEEKLY on `daysOfWeek` (ISO 1 = Monday); one order per listed time. */
  schedule: { kind: 'DAILY' | 'WEEKLY'; daysOfWeek: number[]; times: string[] };
  quantity: number | null;
  startsOn: string;
  endsOn: string | null;
  notes: string;
  active: boolean;
  createdBy: { userId: string; role: string };
  /** Providers contracted for the elder's community at creation: their operators see the plan. */
  providers: string[];
  createdAt: Date;
  version: number;
}

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const PlanInput = z
  .object({
    elderId: z.string().min(1),
    itemCode: z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/, 'must be a catalogue item code'),
    schedule: z.object({
      kind: z.enum(['DAILY', 'WEEKLY']),
      daysOfWeek: z.array(z.number().int().min(1).max(7)).max(7).default([]),
      times: z.array(z.string().regex(CLOCK, 'must be HH:MM')).min(1).max(6),
    }),
    quantity: z.number().positive().max(100).nullable().default(null),
    startsOn: z.iso.date(),
    /** e.g. a two-year home-care package: startsOn + 2 years. Null = until stopped. */
    endsOn: z.iso.date().nullable().default(null),
    notes: z.string().trim().max(500).default(''),
  })
  .superRefine((v, ctx) => {
    if (v.schedule.kind === 'WEEKLY' && v.schedule.daysOfWeek.length === 0) ctx.addIssue({ code: 'custom', path: ['schedule', 'daysOfWeek'], message: 'a weekly plan needs at least one day' });
    if (v.endsOn && v.endsOn < v.startsOn) ctx.addIssue({ code: 'custom', path: ['endsOn'], message: 'must not be before startsOn' });
  });

/** The occurrences of a plan on one date (pure: used by generation and its tests). */
export function occurrencesOn(plan: Pick<PlanDoc, 'schedule' | 'startsOn' | 'endsOn' | 'active'>, date: string): string[] {
  if (!plan.active || date < plan.startsOn || (plan.endsOn && date > plan.endsOn)) return [];
  if (plan.schedule.kind === 'WEEKLY' && !plan.schedule.daysOfWeek.includes(weekdayOf(date))) return [];
  return [...plan.schedule.times].sort();
}

/**
 * Recurring service plans ("meals every day at 11:30", "bathing every Saturday", a two-year package).
 * Orders are generated a few days ahead by a recurring durable job; each occurrence has a
 * deterministic order id (`plan-<planId>-<date>-<HHMM>`), so a restart, a re-run or two replicas
 * generating at once can never create one occurrence twice (the order's unique `_id` refuses it).
 */
@Injectable()
export class PlansService implements OnModuleInit {
  private readonly log = new Logger(PlansService.name);
  readonly col: Collection<PlanDoc>;

  constructor(
    @InjectConnection() connection: Connection,
    @Inject(ConfigService) private readonly config: ConfigService,
    private readonly orders: OrdersService,
    private readonly rm: ReadModels,
    private readonly scheduler: Scheduler,
  ) {
    this.col = connection.collection<PlanDoc>('service_plans') as never;
  }

  async onModuleInit(): Promise<void> {
    this.scheduler.on('plans', async () => {
      await this.generateAll();
      return new Date(Date.now() + 10 * 60_000);
    });
    await this.scheduler.ensure('plans:generate', 'plans', 'all', new Date());
  }

  private horizon(): number {
    return Number(this.config.get('DISPATCH_PLAN_HORIZON_DAYS') ?? 2);
  }

  async create(principal: Principal, body: unknown, correlationId: string) {
    const input = parseInput(PlanInput, body);
    const elder = await this.rm.elder(input.elderId);
    const today = chinaDate(new Date());
    const providers = elder ? this.rm.contractedProviders(elder.regionPath, today) : [];
    const allowed = elder && (actsForElder(principal, elder._id) || inRegion(principal, elder.regionPath) || (principal.role === 'provider_operator' && providers.includes(principal.providerId as string)));
    if (!elder || !allowed) throw notFound('DISPATCH.ELDER_NOT_FOUND', 'Elder', '老年人');
    const item = this.rm.catalogue.get(input.itemCode);
    if (!item?.active) throw new AppError('DISPATCH.ITEM_UNKNOWN', 422, `Catalogue item ${input.itemCode} is unknown or inactive`, { field: 'itemCode', messageZh: `服务项目 ${input.itemCode} 不存在或已停用` });
    const plan: PlanDoc = { _id: `plan-${uuidv7()}`, ...input, regionPath: elder.regionPath, active: true, createdBy: Actor(principal), providers, createdAt: new Date(), version: 1 };
    await this.col.insertOne(plan);
    const generated = await this.generate(plan, correlationId);
    return { ...this.view(plan), generated };
  }

  private view({ _id, ...p }: PlanDoc) {
    return { planId: _id, ...p };
  }

  private scope(principal: Principal): Record<string, unknown> {
    if (principal.role === 'elder' || principal.role === 'guardian') return { elderId: { $in: principal.elderIds ?? [] } };
    if (principal.role === 'provider_operator') return { providers: principal.providerId };
    if (isRegionRole(principal)) return { regionPath: principal.regionCode };
    throw forbidden();
  }

  async list(principal: Principal, query: unknown) {
    const q = parseInput(PageQuery, query);
    const filter = this.scope(principal);
    const items = await this.col.find(filter as never).sort({ _id: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).toArray();
    return { items: items.map((p) => this.view(p)), page: q.page, pageSize: q.pageSize, total: await this.col.countDocuments(filter as never) };
  }

  async stop(principal: Principal, planId: string) {
    const plan = await this.col.findOne({ $and: [{ _id: planId }, this.scope(principal)] } as never);
    if (!plan) throw notFound('DISPATCH.PLAN_NOT_FOUND', 'Service plan', '服务计划');
    await this.col.updateOne({ _id: planId }, { $set: { active: false, version: plan.version + 1 } });
    return this.view({ ...plan, active: false, version: plan.version + 1 });
  }

  async generateAll(): Promise<number> {
    let total = 0;
    for await (const plan of this.col.find({ active: true })) {
      try {
        total += await this.generate(plan, `plans-${chinaDate(new Date())}`);
      } catch (err) {
        this.log.warn({ err, planId: plan._id }, 'plan generation failed; the next run retries');
      }
    }
    return total;
  }

  /** Places the plan's orders from now to the horizon; returns how many were new. */
  async generate(plan: PlanDoc, correlationId: string): Promise<number> {
    const elder = await this.rm.elder(plan.elderId);
    if (!elder || elder.status !== 'ACTIVE') return 0;
    const item = this.rm.catalogue.get(plan.itemCode);
    if (!item) return 0;
    const now = new Date();
    const today = chinaDate(now);
    let created = 0;
    for (let d = 0; d <= this.horizon(); d++) {
      const date = addDays(today, d);
      for (const time of occurrencesOn(plan, date)) {
        const from = chinaInstant(date, time);
        if (from.getTime() < now.getTime()) continue;
        const to = new Date(from.getTime() + (item.defaultDurationMinutes + 60) * 60_000);
        const orderId = `${plan._id}-${date}-${time.replace(':', '')}`;
        const r = await this.orders.placeFor(
          elder,
          { elderId: elder._id, itemCode: plan.itemCode, window: { asap: false, from, to } as never, quantity: plan.quantity ?? undefined, notes: plan.notes, priority: 'NORMAL' },
          { source: 'SERVICE_PLAN', placedBy: SYSTEM, planId: plan._id, orderId, correlationId },
        );
        if (r.created) created++;
      }
    }
    return created;
  }
}

@ApiTags('service-plans 周期服务计划')
@ApiBearerAuth()
@Controller('service-plans')
export class PlansController {
  constructor(private readonly plans: PlansService) {}

  @Post()
  @AllowRoles('elder', 'guardian', 'provider_operator', 'civil_affairs_admin')
  @ApiOperation({ summary: 'A recurring plan; its orders are generated ahead, idempotently.' })
  create(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.plans.create(p, body, String(req.id));
  }

  @Get()
  @AllowRoles('elder', 'guardian', 'provider_operator', 'civil_affairs_admin', 'auditor')
  list(@CurrentPrincipal() p: Principal, @Query() q: Record<string, unknown>) {
    return this.plans.list(p, q);
  }

  @Post(':planId/stop')
  @HttpCode(200)
  @AllowRoles('elder', 'guardian', 'provider_operator', 'civil_affairs_admin')
  stop(@CurrentPrincipal() p: Principal, @Param('planId') planId: string) {
    return this.plans.stop(p, planId);
  }
}

@Module({ imports: [OrdersModule], controllers: [PlansController], providers: [PlansService], exports: [PlansService] })
export class PlansModule {}
