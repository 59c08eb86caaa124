import { Controller, Get, Module } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { Connection } from 'mongoose';
import { distanceMetres } from '@yiyang/geo';
import type { OrderDoc } from '../orders/order.types';
import { OrdersModule } from '../orders/orders.module';
import { ReadModels, type ElderRecord } from '../read-models/read-models.service';
import { forbidden } from '../shared/scope';
import { addDays, chinaDate } from '../shared/time';
import { DETOUR_FACTOR, planRoute, travelMinutes } from './domain/route';

const ACTIVE = ['ACCEPTED', 'EN_ROUTE', 'CHECKED_IN'] as const;
const UPCOMING_DAYS = 7;

type Action = { action: string; method: 'POST'; path: string; labelZh: string; labelEn: string };

/** What the caregiver does next with an order in this state (the console renders it as the button). */
export function nextAction(o: Pick<OrderDoc, '_id' | 'state' | 'visitId'>): Action | null {
  switch (o.state) {
    case 'ASSIGNED':
      return { action: 'ACCEPT', method: 'POST', path: `/offers/${o._id}/accept`, labelZh: '接单', labelEn: 'Accept' };
    case 'ACCEPTED':
      return { action: 'SET_OFF', method: 'POST', path: `/orders/${o._id}/en-route`, labelZh: '出发', labelEn: 'Set off' };
    case 'EN_ROUTE':
      return { action: 'CHECK_IN', method: 'POST', path: '/visits/check-in', labelZh: '到达签到', labelEn: 'Check in' };
    case 'CHECKED_IN':
      return { action: 'CHECK_OUT', method: 'POST', path: `/visits/${o.visitId ?? `v-${o._id}`}/check-out`, labelZh: '服务完成签退', labelEn: 'Check out' };
    default:
      return null;
  }
}

interface VisitLite {
  _id: string;
  orderId: string;
  elderId: string;
  itemCode: string;
  state: string;
  flags: string[];
  startedAt: Date;
  endedAt: Date | null;
}
interface RoundLite {
  _id: string;
  elderId: string;
  dueOn: string;
  state: string;
  ruleId: string;
}

/**
 * The caregiver's day (docs/adr/0007-dispatch.md, "My day"): today's stops (Asia/Shanghai) in route
 * order with the elder, address, item, window, state and the next action; offers waiting for an
 * answer; visits done today; rounds due; accepted work of the coming days.
 */
@ApiTags('my-day 我的今日（护理员）')
@ApiBearerAuth()
@Controller('my-day')
export class MyDayController {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly rm: ReadModels,
  ) {}

  @Get()
  @AllowRoles('caregiver')
  @ApiOperation({ summary: "Today's route, offers, finished visits and rounds of the caregiver in the token." })
  async myDay(@CurrentPrincipal() p: Principal) {
    if (!p.caregiverId) throw forbidden();
    const caregiverId = p.caregiverId;
    const now = new Date();
    const today = chinaDate(now);
    const horizon = addDays(today, UPCOMING_DAYS);
    // Every read is an equality on an indexed top-level field (index lookups on FerretDB, ADR 0001).
    const [orders, visits, rounds] = await Promise.all([
      this.connection
        .collection<OrderDoc>('orders')
        .find({ caregiverId, state: { $in: ['ASSIGNED', ...ACTIVE] } }, { projection: { outbox: 0, history: 0, candidates: 0 } })
        .limit(500)
        .toArray(),
      this.connection
        .collection<VisitLite>('visits')
        .find({ caregiverId, serviceDate: today }, { projection: { orderId: 1, elderId: 1, itemCode: 1, state: 1, flags: 1, startedAt: 1, endedAt: 1 } })
        .limit(200)
        .toArray(),
      this.connection
        .collection<RoundLite>('rounds')
        .find({ assigneeId: caregiverId, state: { $in: ['DUE', 'ASSIGNED', 'OVERDUE'] } }, { projection: { elderId: 1, dueOn: 1, state: 1, ruleId: 1 } })
        .limit(500)
        .toArray(),
    ]);
    const mine = orders.filter((o) => o.caregiverId === caregiverId);
    const dueRounds = rounds.filter((r) => r.dueOn <= horizon);
    const elders = await this.elders([...mine.map((o) => o.elderId), ...visits.map((v) => v.elderId), ...dueRounds.map((r) => r.elderId)]);
    const elderOf = (id: string) => {
      const e = elders.get(id);
      return { elderId: id, name: e?.name ?? null, address: e?.homeAddress ?? null, location: e?.home ?? null };
    };
    const itemOf = (code: string) => {
      const i = this.rm.catalogue.get(code);
      return { code, nameZh: i?.nameZh ?? code, nameEn: i?.nameEn ?? code, unit: i?.unit ?? null };
    };
    const worker = this.rm.caregivers.get(caregiverId);
    const start = worker?.home ?? null;

    const active = mine.filter((o) => (ACTIVE as readonly string[]).includes(o.state));
    const todays = active.filter((o) => o.state !== 'ACCEPTED' || chinaDate(o.window.from) <= today);
    const later = active.filter((o) => !todays.includes(o) && chinaDate(o.window.from) <= horizon);
    const visitByOrder = new Map(visits.map((v) => [v.orderId, v]));
    const plan = planRoute(
      todays.map((o) => ({
        id: o._id,
        order: o,
        location: elders.get(o.elderId)?.home ?? null,
        state: o.state,
        windowFrom: o.window.from,
        windowTo: o.window.to,
        minutes: o.bookedMinutes,
        startedAt: o.state === 'CHECKED_IN' ? (visitByOrder.get(o._id)?.startedAt ?? null) : null,
        urgent: o.priority === 'URGENT',
      })),
      start,
      now,
    );
    const orderCard = (o: OrderDoc) => ({
      orderId: o._id,
      visitId: o.visitId,
      state: o.state,
      elder: elderOf(o.elderId),
      item: { ...itemOf(o.itemCode), quantity: o.quantity, bookedMinutes: o.bookedMinutes },
      window: { asap: o.window.asap, from: o.window.from.toISOString(), to: o.window.to.toISOString() },
      priority: o.priority,
      notes: o.notes,
      next: nextAction(o),
    });
    const route = plan.map((s, i) => ({
      seq: i + 1,
      ...orderCard(s.stop.order),
      legMeters: s.legMeters,
      travelMinutes: s.travelMinutes,
      plannedStart: s.plannedStart.toISOString(),
      plannedEnd: s.plannedEnd.toISOString(),
      late: s.late,
    }));
    const offers = mine
      .filter((o) => o.state === 'ASSIGNED' && o.offer?.caregiverId === caregiverId)
      .sort((a, b) => (a.offer?.expiresAt.getTime() ?? 0) - (b.offer?.expiresAt.getTime() ?? 0))
      .map((o) => {
        const home = elders.get(o.elderId)?.home;
        const meters = start && home ? Math.round(distanceMetres(start, home) * DETOUR_FACTOR) : null;
        return {
          ...orderCard(o),
          offerId: o.offer?.offerId ?? null,
          expiresAt: o.offer?.expiresAt.toISOString() ?? null,
          distanceMeters: meters,
          travelMinutes: meters === null ? null : travelMinutes(meters),
          decline: { action: 'DECLINE', method: 'POST' as const, path: `/offers/${o._id}/decline`, labelZh: '拒单', labelEn: 'Decline', body: { reason: 'string (2–500)' } },
        };
      });
    const done = visits
      .filter((v) => v.state !== 'IN_PROGRESS')
      .sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())
      .map((v) => ({ visitId: v._id, orderId: v.orderId, state: v.state, flags: v.flags ?? [], elder: elderOf(v.elderId), item: itemOf(v.itemCode), startedAt: v.startedAt.toISOString(), endedAt: v.endedAt?.toISOString() ?? null }));
    const roundCards = dueRounds
      .sort((a, b) => a.dueOn.localeCompare(b.dueOn))
      .map((r) => ({
        roundId: r._id,
        ruleId: r.ruleId,
        state: r.state,
        dueOn: r.dueOn,
        dueToday: r.dueOn <= today,
        overdue: r.state === 'OVERDUE' || r.dueOn < today,
        elder: elderOf(r.elderId),
        next: { action: 'COMPLETE_ROUND', method: 'POST' as const, path: `/rounds/${r._id}/complete`, labelZh: '记录巡访', labelEn: 'Record the round' },
      }));
    return {
      date: today,
      timeZone: 'Asia/Shanghai',
      generatedAt: now.toISOString(),
      caregiver: { caregiverId, name: worker?.name ?? null, start },
      summary: {
        stops: route.length,
        offers: offers.length,
        done: done.length,
        roundsDue: roundCards.filter((r) => r.dueToday).length,
        travelMeters: route.reduce((s, r) => s + r.legMeters, 0),
        serviceMinutes: route.reduce((s, r) => s + r.item.bookedMinutes, 0),
        late: route.filter((r) => r.late).length,
      },
      route,
      offers,
      done,
      rounds: roundCards,
      upcoming: later.sort((a, b) => a.window.from.getTime() - b.window.from.getTime()).map(orderCard),
    };
  }

  private async elders(ids: string[]): Promise<Map<string, ElderRecord>> {
    const unique = [...new Set(ids)];
    const out = new Map<string, ElderRecord>();
    for (let i = 0; i < unique.length; i += 500) {
      for (const e of await this.rm.elders.find({ _id: { $in: unique.slice(i, i + 500) } }, { projection: { name: 1, homeAddress: 1, home: 1 } }).toArray()) out.set(e._id, e as ElderRecord);
    }
    return out;
  }
}

@Module({ imports: [OrdersModule], controllers: [MyDayController] })
export class MyDayModule {}
