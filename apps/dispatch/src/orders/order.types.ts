import type { OrderSnapshot, OrderState } from '@yiyang/contracts';
import type { OutboxEntry } from '@yiyang/messaging';

export interface OrderDoc extends Omit<OrderSnapshot, 'orderId' | 'window' | 'placedAt'> {
  _id: string;
  window: { asap: boolean; from: Date; to: Date };
  placedAt: Date;
  /** Workers who declined or let an offer lapse on this order. */
  excluded: string[];
  attempt: number;
  offer: { offerId: string; caregiverId: string; providerId: string; expiresAt: Date } | null;
  /** Providers contracted for the elder's community when the order was placed (operators see these). */
  contractedProviders: string[];
  escalation: { reason: string; at: Date } | null;
  history: { from: OrderState | null; to: OrderState; at: Date; by: string; reason: string | null }[];
  rating: { stars: number; comment: string; at: Date } | null;
  outbox: OutboxEntry[];
  outboxPending: boolean;
  /**
   * Orders placed through the intake (order-requests topic): the intake batch that stored them. Its
   * marker document (`intake_batches`) holds the round's first events until they are published
   * (docs/adr/0007-dispatch.md). Null once a later write has carried them into the regular outbox.
   * `events` is only found on orders stored before the events moved to the marker.
   */
  intake?: { batchId: string; events?: OutboxEntry[] } | null;
}

export function snapshotOf(o: OrderDoc): OrderSnapshot {
  return {
    orderId: o._id,
    elderId: o.elderId,
    regionCode: o.regionCode,
    regionPath: o.regionPath,
    itemCode: o.itemCode,
    category: o.category,
    unit: o.unit,
    quantity: o.quantity,
    bookedMinutes: o.bookedMinutes,
    window: { asap: o.window.asap, from: o.window.from.toISOString(), to: o.window.to.toISOString() },
    priority: o.priority,
    notes: o.notes,
    source: o.source,
    placedBy: o.placedBy,
    planId: o.planId,
    roundId: o.roundId,
    state: o.state,
    providerId: o.providerId,
    caregiverId: o.caregiverId,
    visitId: o.visitId,
    placedAt: o.placedAt.toISOString(),
    version: o.version,
  };
}

/** What the API shows: the snapshot plus the offer and escalation people act on. */
export function viewOf(o: OrderDoc) {
  return {
    ...snapshotOf(o),
    offer: o.offer ? { ...o.offer, expiresAt: o.offer.expiresAt.toISOString() } : null,
    attempt: o.attempt,
    escalation: o.escalation ? { reason: o.escalation.reason, at: o.escalation.at.toISOString() } : null,
    rating: o.rating,
    history: o.history.map((h) => ({ ...h, at: h.at.toISOString() })),
  };
}
