import { Body, Controller, Get, HttpCode, Injectable, Module, Param, Post, Query, Req, type OnModuleInit } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ComplaintCategorySchema, ComplaintFiled, ComplaintResolved, type ComplaintSnapshot } from '@yiyang/contracts';
import { Events, OutboxRelay, isDuplicateKeyError, outboxFields, withOutbox, type OutboxEntry } from '@yiyang/messaging';
import { AllowRoles, AppError, CurrentPrincipal, parseInput, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import type { Collection, Connection } from 'mongoose';
import { z } from 'zod';
import { OrdersModule } from '../orders/orders.module';
import { OrdersService } from '../orders/orders.service';
import { PageQuery, Reason } from '../shared/inputs';
import { Actor, actsForElder, concurrentUpdate, forbidden, inRegion, notFound } from '../shared/scope';

interface ComplaintDoc extends Omit<ComplaintSnapshot, 'complaintId' | 'filedAt' | 'resolvedAt'> {
  _id: string;
  filedAt: Date;
  resolvedAt: Date | null;
  outbox: OutboxEntry[];
  outboxPending: boolean;
}

const FileInput = z.object({ orderId: z.string().min(1), category: ComplaintCategorySchema, text: z.string().trim().min(5).max(2000) });
const ResolveInput = z.object({ status: z.enum(['RESOLVED', 'DISMISSED']), resolution: Reason });
const ListQuery = PageQuery.extend({ status: z.enum(['OPEN', 'RESOLVED', 'DISMISSED']).optional() });
/** A complaint is about a service that happened (or should have: a no-show ends cancelled). */
const COMPLAINABLE = ['COMPLETED', 'RATED', 'FLAGGED', 'CANCELLED', 'CHECKED_OUT', 'VERIFIED'];

/** Complaints after a service (feeds monitoring's quality figures through ComplaintFiled / ComplaintResolved). */
@Injectable()
export class ComplaintsService implements OnModuleInit {
  readonly col: Collection<ComplaintDoc>;
  constructor(
    @InjectConnection() connection: Connection,
    private readonly orders: OrdersService,
    private readonly events: Events,
    private readonly relay: OutboxRelay,
  ) {
    this.col = connection.collection<ComplaintDoc>('complaints') as never;
  }
  async onModuleInit(): Promise<void> {
    await this.relay.register(this.col as never);
  }

  private snapshot(c: ComplaintDoc): ComplaintSnapshot {
    const { _id, outbox: _o, outboxPending: _p, filedAt, resolvedAt, ...rest } = c;
    return { complaintId: _id, ...rest, filedAt: filedAt.toISOString(), resolvedAt: resolvedAt?.toISOString() ?? null };
  }

  async file(principal: Principal, body: unknown, correlationId: string) {
    const input = parseInput(FileInput, body);
    const order = await this.orders.orders.findOne({ _id: input.orderId });
    if (!order || !actsForElder(principal, order.elderId)) throw notFound('DISPATCH.ORDER_NOT_FOUND', 'Order', '订单');
    if (!COMPLAINABLE.includes(order.state)) {
      throw new AppError('DISPATCH.NOT_COMPLAINABLE', 409, `Order is ${order.state}; complaints follow a service`, { messageZh: `订单当前为 ${order.state} 状态，服务后才能投诉`, details: { currentState: order.state } });
    }
    // One complaint per order and category: a double submit is the same complaint.
    const c: ComplaintDoc = {
      _id: `cp-${order._id}-${input.category}`,
      orderId: order._id,
      elderId: order.elderId,
      providerId: order.providerId,
      caregiverId: order.caregiverId,
      regionCode: order.regionCode,
      regionPath: order.regionPath,
      category: input.category,
      text: input.text,
      status: 'OPEN',
      filedBy: Actor(principal),
      filedAt: new Date(),
      resolution: null,
      resolvedAt: null,
      version: 1,
      outbox: [],
      outboxPending: false,
    };
    try {
      await this.col.insertOne({ ...c, ...outboxFields([this.events.create(ComplaintFiled, { key: order._id, correlationId, payload: { complaint: this.snapshot(c) } })]) });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      return this.snapshot((await this.col.findOne({ _id: c._id })) as ComplaintDoc);
    }
    this.relay.nudge();
    return this.snapshot(c);
  }

  private scope(principal: Principal): Record<string, unknown> {
    if (principal.role === 'elder' || principal.role === 'guardian') return { elderId: { $in: principal.elderIds ?? [] } };
    if (principal.role === 'provider_operator') return { providerId: principal.providerId };
    if ((principal.role === 'civil_affairs_admin' || principal.role === 'auditor') && principal.regionCode) return { regionPath: principal.regionCode };
    throw forbidden();
  }

  async list(principal: Principal, query: unknown) {
    const q = parseInput(ListQuery, query);
    const filter = { ...this.scope(principal), ...(q.status ? { status: q.status } : {}) };
    const [items, total] = await Promise.all([
      this.col.find(filter as never, { projection: { outbox: 0 } }).sort({ filedAt: -1 }).skip((q.page - 1) * q.pageSize).limit(q.pageSize).toArray(),
      this.col.countDocuments(filter as never),
    ]);
    return { items: items.map((c) => this.snapshot(c)), page: q.page, pageSize: q.pageSize, total };
  }

  async resolve(principal: Principal, complaintId: string, body: unknown, correlationId: string) {
    const input = parseInput(ResolveInput, body);
    const c = await this.col.findOne({ _id: complaintId });
    const may = c && ((principal.role === 'provider_operator' && c.providerId === principal.providerId) || (principal.role === 'civil_affairs_admin' && inRegion(principal, c.regionPath)));
    if (!c || !may) throw notFound('DISPATCH.COMPLAINT_NOT_FOUND', 'Complaint', '投诉');
    if (c.status !== 'OPEN') throw new AppError('DISPATCH.COMPLAINT_CLOSED', 409, `Complaint is ${c.status}`, { messageZh: `投诉已是 ${c.status} 状态`, details: { currentState: c.status } });
    const next: ComplaintDoc = { ...c, status: input.status, resolution: input.resolution, resolvedAt: new Date(), version: c.version + 1 };
    const { _id, outbox: _o, outboxPending: _p, ...rest } = next;
    const res = await this.col.updateOne({ _id, version: c.version }, withOutbox({ $set: rest }, [this.events.create(ComplaintResolved, { key: c.orderId, correlationId, payload: { complaint: this.snapshot(next) } })]) as never);
    if (res.matchedCount === 0) throw concurrentUpdate();
    this.relay.nudge();
    return this.snapshot(next);
  }
}

@ApiTags('complaints 投诉')
@ApiBearerAuth()
@Controller('complaints')
export class ComplaintsController {
  constructor(private readonly complaints: ComplaintsService) {}

  @Post()
  @AllowRoles('elder', 'guardian')
  file(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.complaints.file(p, body, String(req.id));
  }

  @Get()
  @AllowRoles('elder', 'guardian', 'provider_operator', 'civil_affairs_admin', 'auditor')
  list(@CurrentPrincipal() p: Principal, @Query() q: Record<string, unknown>) {
    return this.complaints.list(p, q);
  }

  @Post(':complaintId/resolve')
  @HttpCode(200)
  @AllowRoles('provider_operator', 'civil_affairs_admin')
  resolve(@CurrentPrincipal() p: Principal, @Param('complaintId') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.complaints.resolve(p, id, body, String(req.id));
  }
}

@Module({ imports: [OrdersModule], controllers: [ComplaintsController], providers: [ComplaintsService] })
export class ComplaintsModule {}
