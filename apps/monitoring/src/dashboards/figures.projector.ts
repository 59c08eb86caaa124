import { Injectable, Logger } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import {
  AlertAcknowledged,
  AlertEscalated,
  AlertRaised,
  AlertResolved,
  BudgetThresholdReached,
  CaregiverSubsidyPosted,
  ChargePosted,
  ChargeReversed,
  ComplaintFiled,
  EmergencyAcknowledged,
  OrderCompleted,
  OrderPlaced,
  OrderRated,
  OrderStateChanged,
  RoundCompleted,
  RoundDue,
  RoundOverdue,
  VisitFlagged,
  VisitVerified,
  type PayloadOf,
} from '@yiyang/contracts';
import { regionPath } from '@yiyang/geo';
import { HandleEvent, insertOnce, type EventContext } from '@yiyang/messaging';
import type { Model } from 'mongoose';
import { BudgetFact, ChargeBudgetParts } from './figures.schema';
import { bucketOf, FiguresStore, shanghaiDate } from './figures.store';

/** A check-in this long after the window's latest start still counts as on time. */
const ON_TIME_GRACE_MS = 15 * 60_000;
const GROUP = { group: 'figures' };

/**
 * Materialises the supervision figures from the event streams as they arrive (design: consumers
 * keep their own read models). Each event adds its counts once (FiguresStore), to every level of
 * its region path, under the day it happened (Asia/Shanghai).
 */
@Injectable()
export class FiguresProjector {
  private readonly log = new Logger(FiguresProjector.name);

  constructor(
    private readonly store: FiguresStore,
    @InjectModel(BudgetFact.name) private readonly budgets: Model<BudgetFact>,
    @InjectModel(ChargeBudgetParts.name) private readonly chargeParts: Model<ChargeBudgetParts>,
  ) {}

  // ── orders ──
  @HandleEvent(OrderPlaced, GROUP)
  async onOrderPlaced(p: PayloadOf<typeof OrderPlaced>, ctx: EventContext) {
    const o = p.order;
    await this.store.apply(ctx.envelope.eventId, { regionPath: o.regionPath, date: shanghaiDate(o.placedAt), counters: { ordersPlaced: 1 } });
  }

  @HandleEvent(OrderStateChanged, GROUP)
  async onOrderStateChanged(p: PayloadOf<typeof OrderStateChanged>, ctx: EventContext) {
    if (p.to !== 'CHECKED_IN') return;
    const o = p.order;
    const onTime = Date.parse(p.at) <= Date.parse(o.window.to) + ON_TIME_GRACE_MS ? 1 : 0;
    await this.store.apply(ctx.envelope.eventId, {
      regionPath: o.regionPath,
      date: shanghaiDate(p.at),
      counters: { arrivals: 1, arrivalsOnTime: onTime },
      providerId: o.providerId,
      providerCounters: { arrivals: 1, onTime },
    });
  }

  @HandleEvent(OrderCompleted, GROUP)
  async onOrderCompleted(p: PayloadOf<typeof OrderCompleted>, ctx: EventContext) {
    const o = p.order;
    await this.store.apply(ctx.envelope.eventId, {
      regionPath: o.regionPath,
      date: shanghaiDate(p.completedAt),
      counters: { ordersCompleted: 1 },
      providerId: o.providerId,
      providerCounters: { completed: 1 },
    });
  }

  @HandleEvent(OrderRated, GROUP)
  async onOrderRated(p: PayloadOf<typeof OrderRated>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, {
      regionPath: p.regionPath,
      date: shanghaiDate(p.ratedAt),
      counters: { ratings: 1, ratingStars: p.stars },
      providerId: p.providerId,
      providerCounters: { ratings: 1, ratingStars: p.stars },
    });
  }

  @HandleEvent(ComplaintFiled, GROUP)
  async onComplaint(p: PayloadOf<typeof ComplaintFiled>, ctx: EventContext) {
    const c = p.complaint;
    await this.store.apply(ctx.envelope.eventId, {
      regionPath: c.regionPath,
      date: shanghaiDate(c.filedAt),
      counters: { complaints: 1 },
      providerId: c.providerId,
      providerCounters: { complaints: 1 },
    });
  }

  // ── visits ──
  @HandleEvent(VisitVerified, GROUP)
  async onVisitVerified(p: PayloadOf<typeof VisitVerified>, ctx: EventContext) {
    const v = p.visit;
    await this.store.apply(ctx.envelope.eventId, { regionPath: v.regionPath, date: v.serviceDate, counters: { visitsVerified: 1 }, providerId: v.providerId, providerCounters: { verified: 1 } });
  }

  @HandleEvent(VisitFlagged, GROUP)
  async onVisitFlagged(p: PayloadOf<typeof VisitFlagged>, ctx: EventContext) {
    const v = p.visit;
    await this.store.apply(ctx.envelope.eventId, { regionPath: v.regionPath, date: v.serviceDate, counters: { visitsFlagged: 1 }, providerId: v.providerId, providerCounters: { flagged: 1 } });
  }

  // ── rounds ──
  @HandleEvent(RoundDue, GROUP)
  async onRoundDue(p: PayloadOf<typeof RoundDue>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, { regionPath: p.round.regionPath, date: p.round.dueOn, counters: { roundsDue: 1 } });
  }

  @HandleEvent(RoundCompleted, GROUP)
  async onRoundCompleted(p: PayloadOf<typeof RoundCompleted>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, { regionPath: p.round.regionPath, date: p.round.dueOn, counters: { roundsCompleted: 1 } });
  }

  @HandleEvent(RoundOverdue, GROUP)
  async onRoundOverdue(p: PayloadOf<typeof RoundOverdue>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, { regionPath: p.round.regionPath, date: p.round.dueOn, counters: { roundsOverdue: 1 } });
  }

  // ── emergencies (dispatch) ──
  @HandleEvent(EmergencyAcknowledged, GROUP)
  async onEmergencyAcknowledged(p: PayloadOf<typeof EmergencyAcknowledged>, ctx: EventContext) {
    const e = p.emergency;
    if (e.kind !== 'SOS' && e.kind !== 'FALL') return;
    await this.store.apply(ctx.envelope.eventId, {
      regionPath: e.regionPath,
      date: shanghaiDate(e.raisedAt),
      counters: { sosResponses: 1, sosResponseSeconds: Math.round(p.responseSeconds), [`sosResp_${bucketOf(p.responseSeconds)}`]: 1 },
    });
  }

  // ── alerts (our own stream) ──
  @HandleEvent(AlertRaised, GROUP)
  async onAlertRaised(p: PayloadOf<typeof AlertRaised>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, { regionPath: p.regionPath, date: shanghaiDate(p.raisedAt), counters: { alertsRaised: 1, [`alert_${p.kind}_raised`]: 1 } });
  }

  @HandleEvent(AlertAcknowledged, GROUP)
  async onAlertAcknowledged(p: PayloadOf<typeof AlertAcknowledged>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, {
      regionPath: p.regionPath,
      date: shanghaiDate(p.raisedAt),
      counters: { [`alert_${p.kind}_acknowledged`]: 1, alertResponses: 1, [`alertResp_${bucketOf(p.responseSeconds)}`]: 1 },
    });
  }

  @HandleEvent(AlertEscalated, GROUP)
  async onAlertEscalated(p: PayloadOf<typeof AlertEscalated>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, { regionPath: p.regionPath, date: shanghaiDate(p.raisedAt), counters: { [`alert_${p.kind}_escalated`]: 1 } });
  }

  @HandleEvent(AlertResolved, GROUP)
  async onAlertResolved(p: PayloadOf<typeof AlertResolved>, ctx: EventContext) {
    await this.store.apply(ctx.envelope.eventId, { regionPath: p.regionPath, date: shanghaiDate(p.raisedAt), counters: { [`alert_${p.kind}_${p.outcome}`]: 1 } });
  }

  // ── money (billing) ──
  @HandleEvent(ChargePosted, GROUP)
  async onChargePosted(p: PayloadOf<typeof ChargePosted>, ctx: EventContext) {
    const year = Number(p.serviceDate.slice(0, 4));
    const parts = p.parts.map((x) => ({ budgetId: x.budgetId, fundSource: x.fundSource, amountFen: x.amountFen }));
    // Kept first, so a reversal can always find what the charge drew (insertOnce: a redelivery is a no-op).
    if (parts.length > 0) await insertOnce(this.chargeParts.collection as never, { _id: p.chargeId, subsidyFen: p.subsidyFen, parts, year });
    await this.store.applyBudgetDraws(ctx.envelope.eventId, year, parts);
    await this.store.apply(ctx.envelope.eventId, {
      regionPath: regionPath(p.regionCode),
      date: p.serviceDate,
      counters: { subsidyFen: p.subsidyFen, grossFen: p.grossFen, copayFen: p.copayFen, heldFen: p.heldFen },
    });
  }

  @HandleEvent(CaregiverSubsidyPosted, GROUP)
  async onCaregiverSubsidy(p: PayloadOf<typeof CaregiverSubsidyPosted>, ctx: EventContext) {
    await this.store.applyBudgetDraws(ctx.envelope.eventId, Number(p.month.slice(0, 4)), p.parts);
  }

  @HandleEvent(ChargeReversed, GROUP)
  async onChargeReversed(p: PayloadOf<typeof ChargeReversed>, ctx: EventContext) {
    // The reversal gives the subsidy back to the budgets the charge drew on, in the charge's proportions.
    const charge = await this.chargeParts.findById(p.chargeId).lean();
    if (charge && charge.subsidyFen > 0) {
      const share = Math.min(1, p.subsidyFen / charge.subsidyFen);
      await this.store.applyBudgetDraws(
        ctx.envelope.eventId,
        charge.year,
        charge.parts.map((x) => ({ ...x, amountFen: -Math.round(x.amountFen * share) })),
      );
    }
    await this.store.apply(ctx.envelope.eventId, { regionPath: regionPath(p.regionCode), date: p.serviceDate, counters: { subsidyFen: -p.subsidyFen, copayFen: -p.copayFen } });
  }

  @HandleEvent(BudgetThresholdReached, GROUP)
  async onBudget(p: PayloadOf<typeof BudgetThresholdReached>) {
    // Spent only grows; keep the highest figure billing reported (events may arrive out of order).
    await this.budgets.updateOne(
      { _id: p.budgetId },
      {
        $set: { regionCode: p.regionCode, year: p.year, fundSource: p.fundSource, allocatedFen: p.allocatedFen },
        $max: { spentFen: p.spentFen, heldFen: p.heldFen },
        $setOnInsert: { drawnFen: 0, pending: [] },
      },
      { upsert: true },
    );
    this.log.debug?.(`budget ${p.budgetId} at ${p.thresholdPercent}%`);
  }
}
