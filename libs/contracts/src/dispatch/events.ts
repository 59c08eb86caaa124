import { z } from 'zod';
import { defineEvent } from '../envelope';
import { LatLngSchema, RegionCodeSchema, ServiceCategorySchema, ServiceUnitSchema } from '../registry/vocabulary';
import { DispatchTopics } from './topics';

// Dispatch's events. Like the registry, the aggregate events carry the aggregate's current snapshot
// with a `version` that grows by one per change, so a consumer keeps a read model by "replace if newer".
// Topics are keyed by the aggregate id (orderId, emergencyId, visitId, roundId). Timestamps are ISO-8601
// with offset; calendar dates (`serviceDate`, `dueOn`) are Asia/Shanghai yyyy-mm-dd.

const Instant = z.iso.datetime({ offset: true });
const LocalDate = z.iso.date();

// ───────────────────────────── orders ─────────────────────────────

export const OrderStates = [
  'PLACED',
  'ASSIGNED',
  'ACCEPTED',
  'EN_ROUTE',
  'CHECKED_IN',
  'CHECKED_OUT',
  'VERIFIED',
  'FLAGGED',
  'COMPLETED',
  'RATED',
  'CANCELLED',
  'ESCALATED',
] as const;
export const OrderStateSchema = z.enum(OrderStates);
export type OrderState = z.infer<typeof OrderStateSchema>;

/** Who or what put the order in. */
export const OrderSourceSchema = z.enum(['ELDER', 'GUARDIAN', 'OPERATOR', 'BUREAU', 'SERVICE_PLAN', 'ROUND']);
export const OrderPrioritySchema = z.enum(['NORMAL', 'URGENT']);

export const ServiceWindow = z.object({
  /** true = as soon as possible; `from`/`to` are then the placement time and the latest acceptable start. */
  asap: z.boolean(),
  from: Instant,
  to: Instant,
});

export const OrderSnapshot = z.object({
  orderId: z.string(),
  elderId: z.string(),
  /** The elder's community and every ancestor (for region-scoped KPIs). */
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
  itemCode: z.string(),
  category: ServiceCategorySchema,
  unit: ServiceUnitSchema,
  /** Units ordered (per the item's unit); hours for PER_HOUR items. */
  quantity: z.number().positive(),
  bookedMinutes: z.number().int().positive(),
  window: ServiceWindow,
  priority: OrderPrioritySchema,
  notes: z.string(),
  source: OrderSourceSchema,
  placedBy: z.object({ userId: z.string(), role: z.string() }),
  /** Set when the order came from a recurring service plan / a visiting round. */
  planId: z.string().nullable(),
  roundId: z.string().nullable(),
  state: OrderStateSchema,
  providerId: z.string().nullable(),
  caregiverId: z.string().nullable(),
  visitId: z.string().nullable(),
  placedAt: Instant,
  version: z.number().int().positive(),
});
export type OrderSnapshot = z.infer<typeof OrderSnapshot>;

export const OrderPlaced = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.placed',
  version: 1,
  payload: z.object({ order: OrderSnapshot }),
});

/**
 * A command: place an order (the Kafka twin of `POST /orders`). `requestId` is the requester's
 * idempotency key: the order id is derived from (requestedBy.userId, requestId) exactly as for the
 * HTTP `Idempotency-Key`, so a double tap — by either path, delivered any number of times — makes
 * one order. `requestedBy` is the authenticated principal as the trusted producer saw it; dispatch
 * applies the same rules as for the API (a guardian only for their elders, an operator only where
 * its provider is contracted, the bureau within its region).
 */
export const PlaceOrderRequested = defineEvent({
  topic: DispatchTopics.orderRequests,
  type: 'dispatch.order.place-requested',
  version: 1,
  payload: z.object({
    requestId: z.string().regex(/^[\w.:-]{8,100}$/),
    requestedBy: z.object({
      userId: z.string().min(1),
      role: z.string().min(1),
      regionCode: RegionCodeSchema.optional(),
      providerId: z.string().optional(),
      elderIds: z.array(z.string()).optional(),
    }),
    elderId: z.string().min(1),
    itemCode: z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/),
    /** Absent = as soon as possible. */
    window: z.object({ from: Instant, to: Instant }).optional(),
    quantity: z.number().positive().max(100).optional(),
    notes: z.string().max(500).default(''),
    priority: OrderPrioritySchema.default('NORMAL'),
  }),
});

/** A PlaceOrderRequested that was refused (on the orders topic, keyed by the order id it would have had). */
export const OrderRequestRejected = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.request-rejected',
  version: 1,
  payload: z.object({
    requestId: z.string(),
    orderId: z.string(),
    elderId: z.string(),
    requestedBy: z.object({ userId: z.string(), role: z.string() }),
    code: z.string(),
    message: z.string(),
    messageZh: z.string(),
    field: z.string().nullable(),
    at: Instant,
  }),
});

/** Matching chose a caregiver and offered the order to them (state ASSIGNED). */
export const OrderAssigned = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.assigned',
  version: 1,
  payload: z.object({
    order: OrderSnapshot,
    offerId: z.string(),
    caregiverId: z.string(),
    providerId: z.string(),
    /** Matching score (higher is better) and the candidate's rank among those considered. */
    score: z.number(),
    rank: z.number().int().positive(),
    distanceMeters: z.number().nonnegative(),
    offerExpiresAt: Instant,
    /** 1 for the first offer; grows on each decline/timeout/reassignment. */
    attempt: z.number().int().positive(),
  }),
});

/** Any other transition (ACCEPTED, EN_ROUTE, CHECKED_IN, CHECKED_OUT, VERIFIED, FLAGGED, reassignment back to PLACED). */
export const OrderStateChanged = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.state-changed',
  version: 1,
  payload: z.object({
    order: OrderSnapshot,
    from: OrderStateSchema,
    to: OrderStateSchema,
    reason: z.string().nullable(),
    by: z.object({ userId: z.string(), role: z.string() }),
    at: Instant,
  }),
});

/** No eligible caregiver (or every offer declined/timed out): the provider operator must act. */
export const OrderEscalated = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.escalated',
  version: 1,
  payload: z.object({
    order: OrderSnapshot,
    reason: z.enum(['NO_CANDIDATE', 'ALL_OFFERS_DECLINED', 'NO_CONTRACTED_PROVIDER']),
    /** Providers contracted for the elder's community, whose operators see the escalation. */
    providerIds: z.array(z.string()),
    attempts: z.number().int().nonnegative(),
    at: Instant,
  }),
});

export const OrderCancelled = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.cancelled',
  version: 1,
  payload: z.object({
    order: OrderSnapshot,
    from: OrderStateSchema,
    reason: z.string(),
    by: z.object({ userId: z.string(), role: z.string() }),
    at: Instant,
  }),
});

export const OrderCompleted = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.completed',
  version: 1,
  payload: z.object({ order: OrderSnapshot, visitId: z.string(), completedAt: Instant }),
});

export const OrderRated = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.order.rated',
  version: 1,
  payload: z.object({
    orderId: z.string(),
    elderId: z.string(),
    providerId: z.string(),
    caregiverId: z.string(),
    itemCode: z.string(),
    regionCode: RegionCodeSchema,
    regionPath: z.array(RegionCodeSchema),
    stars: z.number().int().min(1).max(5),
    comment: z.string(),
    ratedBy: z.object({ userId: z.string(), role: z.string() }),
    ratedAt: Instant,
  }),
});

export const ComplaintCategorySchema = z.enum(['QUALITY', 'LATENESS', 'NO_SHOW', 'ATTITUDE', 'SAFETY', 'BILLING', 'OTHER']);

export const ComplaintSnapshot = z.object({
  complaintId: z.string(),
  orderId: z.string(),
  elderId: z.string(),
  providerId: z.string().nullable(),
  caregiverId: z.string().nullable(),
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
  category: ComplaintCategorySchema,
  text: z.string(),
  status: z.enum(['OPEN', 'RESOLVED', 'DISMISSED']),
  filedBy: z.object({ userId: z.string(), role: z.string() }),
  filedAt: Instant,
  resolution: z.string().nullable(),
  resolvedAt: Instant.nullable(),
  version: z.number().int().positive(),
});
export type ComplaintSnapshot = z.infer<typeof ComplaintSnapshot>;

/** On the orders topic, keyed by the orderId the complaint is about. */
export const ComplaintFiled = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.complaint.filed',
  version: 1,
  payload: z.object({ complaint: ComplaintSnapshot }),
});
export const ComplaintResolved = defineEvent({
  topic: DispatchTopics.orders,
  type: 'dispatch.complaint.resolved',
  version: 1,
  payload: z.object({ complaint: ComplaintSnapshot }),
});

// ───────────────────────────── emergencies ─────────────────────────────

export const EscalationLevelSchema = z.enum(['RESPONDER', 'GUARDIAN', 'COMMUNITY_WORKER', 'EMERGENCY_SERVICES']);
export type EscalationLevel = z.infer<typeof EscalationLevelSchema>;

export const EmergencyStateSchema = z.enum(['OPEN', 'ACKNOWLEDGED', 'RESOLVED', 'FALSE_ALARM']);

/** Someone who was notified about an emergency. Phone numbers stay inside dispatch. */
export const EmergencyContact = z.object({
  kind: z.enum(['CAREGIVER', 'GUARDIAN', 'DUTY_WORKER', 'EMERGENCY_SERVICES']),
  id: z.string(),
  name: z.string(),
  notifiedAt: Instant,
});

export const EmergencySnapshot = z.object({
  emergencyId: z.string(),
  elderId: z.string().nullable(),
  facilityId: z.string().nullable(),
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
  kind: z.enum(['SOS', 'FALL', 'ROUND_URGENT']),
  source: z.enum(['API', 'DEVICE', 'ROUND']),
  /** monitoring's alertId when the emergency came from a device alert. */
  alertId: z.string().nullable(),
  location: LatLngSchema.nullable(),
  state: EmergencyStateSchema,
  /** The highest ladder level reached so far. */
  level: EscalationLevelSchema,
  /** When the current level must be acknowledged, or the ladder climbs. Null once acknowledged/closed. */
  ackDeadline: Instant.nullable(),
  notified: z.array(EmergencyContact),
  raisedAt: Instant,
  acknowledgedAt: Instant.nullable(),
  acknowledgedBy: z.object({ userId: z.string(), role: z.string(), kind: z.string() }).nullable(),
  closedAt: Instant.nullable(),
  closeReason: z.string().nullable(),
  version: z.number().int().positive(),
});
export type EmergencySnapshot = z.infer<typeof EmergencySnapshot>;

export const EmergencyRaised = defineEvent({
  topic: DispatchTopics.emergencies,
  type: 'dispatch.emergency.raised',
  version: 1,
  payload: z.object({ emergency: EmergencySnapshot }),
});
export const EmergencyEscalated = defineEvent({
  topic: DispatchTopics.emergencies,
  type: 'dispatch.emergency.escalated',
  version: 1,
  payload: z.object({
    emergency: EmergencySnapshot,
    from: EscalationLevelSchema,
    to: EscalationLevelSchema,
    /** Who was newly notified at this step. */
    notified: z.array(EmergencyContact),
    at: Instant,
  }),
});
export const EmergencyAcknowledged = defineEvent({
  topic: DispatchTopics.emergencies,
  type: 'dispatch.emergency.acknowledged',
  version: 1,
  payload: z.object({ emergency: EmergencySnapshot, responseSeconds: z.number().nonnegative(), at: Instant }),
});
export const EmergencyResolved = defineEvent({
  topic: DispatchTopics.emergencies,
  type: 'dispatch.emergency.resolved',
  version: 1,
  payload: z.object({
    emergency: EmergencySnapshot,
    outcome: z.enum(['RESOLVED', 'FALSE_ALARM']),
    reason: z.string(),
    at: Instant,
  }),
});

// ───────────────────────────── visits (EVV) ─────────────────────────────

export const VisitFlagSchema = z.enum(['OUTSIDE_GEOFENCE', 'OVERLAP', 'IMPOSSIBLE_TRAVEL', 'TOO_SHORT', 'MISSING_CHECK_OUT']);
export type VisitFlag = z.infer<typeof VisitFlagSchema>;

export const VisitStateSchema = z.enum(['IN_PROGRESS', 'VERIFIED', 'FLAGGED', 'APPROVED', 'REJECTED']);

/** One end of a visit as the caregiver's device recorded it (EVV: location + time). */
export const VisitPunch = z.object({
  at: Instant,
  location: LatLngSchema,
  /** Distance from the elder's home; compared with `geofenceMeters`. */
  distanceMeters: z.number().nonnegative(),
  accuracyMeters: z.number().nonnegative().nullable(),
});

/**
 * The visit record with the six EVV elements: service type (itemCode), person served (elderId),
 * date (serviceDate), location (checkIn/checkOut + home), person serving (caregiverId), start/end time.
 */
export const VisitRecord = z.object({
  visitId: z.string(),
  orderId: z.string(),
  elderId: z.string(),
  providerId: z.string(),
  caregiverId: z.string(),
  itemCode: z.string(),
  category: ServiceCategorySchema,
  unit: ServiceUnitSchema,
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
  /** Asia/Shanghai calendar date of the start. */
  serviceDate: LocalDate,
  startedAt: Instant,
  /** Null only while the visit is in progress (VisitCheckedIn) or when the check-out is missing. */
  endedAt: Instant.nullable(),
  /** Units per the item's unit (visits, hours rounded to quarter hours, meals, days, items). */
  quantity: z.number().nonnegative(),
  bookedMinutes: z.number().int().positive(),
  actualMinutes: z.number().int().nonnegative(),
  home: LatLngSchema,
  geofenceMeters: z.number().positive(),
  checkIn: VisitPunch,
  checkOut: VisitPunch.nullable(),
  flags: z.array(VisitFlagSchema),
  state: VisitStateSchema,
  version: z.number().int().positive(),
});
export type VisitRecord = z.infer<typeof VisitRecord>;

export const VisitCheckedIn = defineEvent({
  topic: DispatchTopics.visits,
  type: 'dispatch.visit.checked-in',
  version: 1,
  payload: z.object({ visit: VisitRecord }),
});
/** Billable: all checks passed at check-out. */
export const VisitVerified = defineEvent({
  topic: DispatchTopics.visits,
  type: 'dispatch.visit.verified',
  version: 1,
  payload: z.object({ visit: VisitRecord }),
});
/** Not billable until an operator approves it. */
export const VisitFlagged = defineEvent({
  topic: DispatchTopics.visits,
  type: 'dispatch.visit.flagged',
  version: 1,
  payload: z.object({ visit: VisitRecord, flags: z.array(VisitFlagSchema), details: z.array(z.string()) }),
});
/** A flagged visit approved by an operator: billable from now on. */
export const VisitApproved = defineEvent({
  topic: DispatchTopics.visits,
  type: 'dispatch.visit.approved',
  version: 1,
  payload: z.object({ visit: VisitRecord, reason: z.string(), by: z.object({ userId: z.string(), role: z.string() }), at: Instant }),
});
export const VisitRejected = defineEvent({
  topic: DispatchTopics.visits,
  type: 'dispatch.visit.rejected',
  version: 1,
  payload: z.object({ visit: VisitRecord, reason: z.string(), by: z.object({ userId: z.string(), role: z.string() }), at: Instant }),
});

// ───────────────────────────── visiting rounds (巡访) ─────────────────────────────

export const RoundFindingSchema = z.enum(['FINE', 'NEEDS_SERVICE', 'URGENT']);
export const RoundStateSchema = z.enum(['DUE', 'ASSIGNED', 'COMPLETED', 'OVERDUE']);

export const RoundSnapshot = z.object({
  roundId: z.string(),
  ruleId: z.string(),
  elderId: z.string(),
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
  /** The day the round is due by (Asia/Shanghai). */
  dueOn: LocalDate,
  periodStart: LocalDate,
  state: RoundStateSchema,
  /** The social worker / volunteer / duty worker assigned (a registry caregiverId). */
  assigneeId: z.string().nullable(),
  finding: RoundFindingSchema.nullable(),
  notes: z.string().nullable(),
  completedAt: Instant.nullable(),
  followUpOrderId: z.string().nullable(),
  followUpEmergencyId: z.string().nullable(),
  version: z.number().int().positive(),
});
export type RoundSnapshot = z.infer<typeof RoundSnapshot>;

export const RoundDue = defineEvent({
  topic: DispatchTopics.rounds,
  type: 'dispatch.round.due',
  version: 1,
  payload: z.object({ round: RoundSnapshot }),
});
export const RoundAssigned = defineEvent({
  topic: DispatchTopics.rounds,
  type: 'dispatch.round.assigned',
  version: 1,
  payload: z.object({ round: RoundSnapshot }),
});
export const RoundCompleted = defineEvent({
  topic: DispatchTopics.rounds,
  type: 'dispatch.round.completed',
  version: 1,
  payload: z.object({ round: RoundSnapshot }),
});
export const RoundOverdue = defineEvent({
  topic: DispatchTopics.rounds,
  type: 'dispatch.round.overdue',
  version: 1,
  payload: z.object({ round: RoundSnapshot, daysOverdue: z.number().int().positive() }),
});
