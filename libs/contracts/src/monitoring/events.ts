import { z } from 'zod';
import { defineEvent } from '../envelope';
import { LatLngSchema, RegionCodeSchema } from '../registry/vocabulary';
import { MonitoringTopics } from './topics';

// Monitoring's contracts (docs/adr/0009-monitoring.md).
//
// Three streams: telemetry readings (high volume, compact, keyed by deviceId), device snapshots
// (event-carried state: every device event carries the whole current device and a version), and
// alerts (keyed by alertId; every transition event repeats the alert's identity — kind, device,
// elder/facility, region path — so a consumer such as a dashboard needs no state to attribute it).

const labelled = <T extends string>(labels: Record<T, { zh: string; en: string }>) => ({
  codes: Object.keys(labels) as [T, ...T[]],
  labels,
});

export const DeviceKinds = labelled({
  SOS_BUTTON: { zh: '一键呼叫按钮', en: 'SOS button' },
  SOS_WATCH: { zh: '一键呼叫手表', en: 'SOS watch' },
  FALL_DETECTOR: { zh: '跌倒检测器', en: 'Fall detector' },
  SMART_WATCH: { zh: '智能手表（心率/血氧/定位）', en: 'Smart watch (heart rate, SpO2, location)' },
  BP_METER: { zh: '血压计', en: 'Blood-pressure meter' },
  GLUCOSE_METER: { zh: '血糖仪', en: 'Glucose meter' },
  BED_SENSOR: { zh: '床垫传感器', en: 'Bed sensor' },
  DOOR_SENSOR: { zh: '门磁传感器', en: 'Door sensor' },
  MOTION_SENSOR: { zh: '人体移动传感器', en: 'Motion sensor' },
  SMOKE_DETECTOR: { zh: '烟感探测器', en: 'Smoke detector' },
  GAS_DETECTOR: { zh: '燃气探测器', en: 'Gas detector' },
});
export const DeviceKindSchema = z.enum(DeviceKinds.codes);
export type DeviceKind = z.infer<typeof DeviceKindSchema>;

/**
 * Typical heartbeat interval of each kind, in seconds: monitoring's default when a registration names
 * none (a device is silent after 3× this), and what vendor platforms and simulators send at.
 */
export const DEFAULT_HEARTBEAT_SEC: Record<DeviceKind, number> = {
  SOS_BUTTON: 1_800,
  SOS_WATCH: 600,
  FALL_DETECTOR: 600,
  SMART_WATCH: 300,
  BP_METER: 86_400,
  GLUCOSE_METER: 86_400,
  BED_SENSOR: 300,
  DOOR_SENSOR: 3_600,
  MOTION_SENSOR: 1_800,
  SMOKE_DETECTOR: 14_400,
  GAS_DETECTOR: 3_600,
};

/** What a single reading reports. A device may send several kinds (a watch: HEARTBEAT, VITALS, SOS, FALL, LOCATION). */
export const ReadingKinds = labelled({
  HEARTBEAT: { zh: '心跳', en: 'Heartbeat' },
  SOS: { zh: '一键呼叫', en: 'SOS pressed' },
  FALL: { zh: '跌倒', en: 'Fall detected' },
  VITALS: { zh: '生命体征', en: 'Vital signs' },
  ACTIVITY: { zh: '活动（门/人体/床）', en: 'Activity (door, motion, bed)' },
  LOCATION: { zh: '定位', en: 'Location' },
  SMOKE: { zh: '烟雾', en: 'Smoke' },
  GAS: { zh: '燃气泄漏', en: 'Gas' },
});
export const ReadingKindSchema = z.enum(ReadingKinds.codes);
export type ReadingKind = z.infer<typeof ReadingKindSchema>;

/** Vital signs; each field present only when the device measured it. */
export const ReadingVitalsSchema = z.object({
  /** Heart rate, beats per minute. */
  hr: z.number().int().min(0).max(300).optional(),
  /** Blood oxygen saturation, %. */
  spo2: z.number().int().min(0).max(100).optional(),
  /** Systolic / diastolic blood pressure, mmHg. */
  sys: z.number().int().min(0).max(300).optional(),
  dia: z.number().int().min(0).max(250).optional(),
  /** Blood glucose, mmol/L (one decimal). */
  glu: z.number().min(0).max(50).optional(),
});
export type Vitals = z.infer<typeof ReadingVitalsSchema>;

/** One reading of one device. Times are epoch milliseconds (compact, and cheap to compare). */
export const TelemetryReadingSchema = z.object({
  kind: ReadingKindSchema,
  /** When the device measured it (epoch ms). Rules order and dedupe by this, never by arrival. */
  at: z.number().int().positive(),
  /** Vendor's per-device sequence number, when the platform provides one (strengthens dedupe). */
  seq: z.number().int().nonnegative().optional(),
  /** Battery level, %. */
  battery: z.number().int().min(0).max(100).optional(),
  vitals: ReadingVitalsSchema.optional(),
  loc: LatLngSchema.optional(),
  /** SMOKE: obscuration %/m; GAS: % of lower explosive limit. */
  level: z.number().min(0).max(100).optional(),
});
export type TelemetryReading = z.infer<typeof TelemetryReadingSchema>;

/**
 * What travels on `yiyang.monitoring.telemetry.v1`, keyed by deviceId: the readings of ONE device
 * from one vendor delivery (usually one, several when the platform batched a device's readings).
 * Deliberately compact: the device's binding (elder, facility, region) is NOT repeated — the rule
 * engine knows it from the device stream.
 */
export const TelemetryReadings = defineEvent({
  topic: MonitoringTopics.telemetry,
  type: 'monitoring.telemetry.readings',
  version: 1,
  payload: z.object({
    deviceId: z.string().min(1).max(64),
    /** The vendor platform that delivered it (authenticated at ingestion). */
    vendorId: z.string().min(1).max(64),
    /** When the ingestion endpoint accepted the delivery (epoch ms). */
    receivedAt: z.number().int().positive(),
    readings: z.array(TelemetryReadingSchema).min(1).max(500),
  }),
});

// ---- devices -------------------------------------------------------------------------------

export const DeviceSnapshot = z.object({
  deviceId: z.string(),
  vendorId: z.string(),
  /** The vendor's own identifier (IMEI, serial); unique per vendor. */
  externalId: z.string(),
  kind: DeviceKindSchema,
  model: z.string(),
  /** Exactly one of elderId / facilityId is set while the device is bound; both null once unbound. */
  elderId: z.string().nullable(),
  facilityId: z.string().nullable(),
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
  /** Where the device is installed (the elder's home or the facility), when known. */
  location: LatLngSchema.nullable(),
  boundSince: z.iso.datetime({ offset: true }).nullable(),
  heartbeatIntervalSec: z.number().int().positive(),
  battery: z.number().int().min(0).max(100).nullable(),
  active: z.boolean(),
  version: z.number().int().positive(),
});
export type DeviceSnapshot = z.infer<typeof DeviceSnapshot>;

export const DeviceRegistered = defineEvent({
  topic: MonitoringTopics.devices,
  type: 'monitoring.device.registered',
  version: 1,
  payload: z.object({ device: DeviceSnapshot }),
});
export const DeviceUpdated = defineEvent({
  topic: MonitoringTopics.devices,
  type: 'monitoring.device.updated',
  version: 1,
  payload: z.object({ device: DeviceSnapshot, changedFields: z.array(z.string()) }),
});
export const DeviceUnbound = defineEvent({
  topic: MonitoringTopics.devices,
  type: 'monitoring.device.unbound',
  version: 1,
  payload: z.object({
    device: DeviceSnapshot,
    previousElderId: z.string().nullable(),
    previousFacilityId: z.string().nullable(),
    reason: z.string(),
  }),
});

// ---- alerts --------------------------------------------------------------------------------

export const AlertKinds = labelled({
  SOS: { zh: '一键呼叫', en: 'SOS pressed' },
  FALL: { zh: '跌倒', en: 'Fall detected' },
  INACTIVITY: { zh: '长时间无活动', en: 'No activity' },
  VITALS: { zh: '生命体征异常', en: 'Vital signs out of range' },
  DEVICE_SILENT: { zh: '设备离线', en: 'Device silent' },
  LOW_BATTERY: { zh: '电量低', en: 'Low battery' },
  SMOKE: { zh: '烟雾报警', en: 'Smoke' },
  GAS: { zh: '燃气泄漏', en: 'Gas leak' },
});
export const AlertKindSchema = z.enum(AlertKinds.codes);
export type AlertKind = z.infer<typeof AlertKindSchema>;

export const AlertSeverities = labelled({
  CRITICAL: { zh: '紧急', en: 'Critical' },
  HIGH: { zh: '高', en: 'High' },
  MEDIUM: { zh: '中', en: 'Medium' },
  LOW: { zh: '低', en: 'Low' },
});
export const AlertSeveritySchema = z.enum(AlertSeverities.codes);
export type AlertSeverity = z.infer<typeof AlertSeveritySchema>;

/** Who an escalation step notifies (responder → guardian → community worker → emergency services). */
export const EscalationTargets = labelled({
  RESPONDER: { zh: '响应人员', en: 'Responder' },
  FACILITY_DUTY: { zh: '机构值班人员', en: 'Facility duty staff' },
  GUARDIAN: { zh: '监护人', en: 'Guardian' },
  COMMUNITY_WORKER: { zh: '社区工作人员', en: 'Community worker' },
  EMERGENCY_SERVICES: { zh: '急救/消防', en: 'Emergency services' },
});
export const EscalationTargetSchema = z.enum(EscalationTargets.codes);
export type EscalationTarget = z.infer<typeof EscalationTargetSchema>;

/** A reading kept as evidence on the alert (the ones that made the rule fire). */
export const EvidenceReading = z.object({
  kind: ReadingKindSchema,
  at: z.iso.datetime({ offset: true }),
  battery: z.number().int().min(0).max(100).optional(),
  vitals: ReadingVitalsSchema.optional(),
  loc: LatLngSchema.optional(),
  level: z.number().optional(),
  seq: z.number().int().nonnegative().optional(),
});
export type EvidenceReading = z.infer<typeof EvidenceReading>;

/** Identity every alert event carries. */
export const AlertIdentity = z.object({
  alertId: z.string(),
  kind: AlertKindSchema,
  severity: AlertSeveritySchema,
  deviceId: z.string(),
  deviceKind: DeviceKindSchema,
  /** The elder concerned (device bound to a home); absent for facility devices. */
  elderId: z.string().optional(),
  /** The facility concerned (device bound to an institution or centre). */
  facilityId: z.string().optional(),
  regionCode: RegionCodeSchema,
  regionPath: z.array(RegionCodeSchema),
});
export type AlertIdentity = z.infer<typeof AlertIdentity>;

export const AlertRaised = defineEvent({
  topic: MonitoringTopics.alerts,
  type: 'monitoring.alert.raised',
  version: 1,
  payload: AlertIdentity.extend({
    /** Last known position (watch) or where the device is installed. */
    location: LatLngSchema.optional(),
    raisedAt: z.iso.datetime({ offset: true }),
    /** Human-readable cause, e.g. "heart rate 142 > 120 for 3 readings". */
    reason: z.string(),
    evidence: z.array(EvidenceReading),
    /** Acknowledge before this instant or the alert escalates. */
    ackDeadline: z.iso.datetime({ offset: true }),
    /** Who is notified first. SMOKE/GAS in a facility: FACILITY_DUTY. */
    notify: EscalationTargetSchema,
    /** True for SOS and FALL: dispatch opens an emergency from this event. */
    emergency: z.boolean(),
  }),
});

export const AlertActorSchema = z.object({ userId: z.string(), role: z.string() });

export const AlertAcknowledged = defineEvent({
  topic: MonitoringTopics.alerts,
  type: 'monitoring.alert.acknowledged',
  version: 1,
  payload: AlertIdentity.extend({
    raisedAt: z.iso.datetime({ offset: true }),
    acknowledgedAt: z.iso.datetime({ offset: true }),
    acknowledgedBy: AlertActorSchema,
    /** Seconds from raised to acknowledged: the response time the dashboards report. */
    responseSeconds: z.number().nonnegative(),
    note: z.string().optional(),
  }),
});

export const AlertEscalated = defineEvent({
  topic: MonitoringTopics.alerts,
  type: 'monitoring.alert.escalated',
  version: 1,
  payload: AlertIdentity.extend({
    raisedAt: z.iso.datetime({ offset: true }),
    escalatedAt: z.iso.datetime({ offset: true }),
    /** 1 for the first escalation. */
    level: z.number().int().positive(),
    escalatedTo: EscalationTargetSchema,
    /** The next deadline, or absent when this was the last step. */
    nextDeadline: z.iso.datetime({ offset: true }).optional(),
  }),
});

export const AlertOutcomeSchema = z.enum(['RESOLVED', 'FALSE_ALARM']);
export type AlertOutcome = z.infer<typeof AlertOutcomeSchema>;

export const AlertResolved = defineEvent({
  topic: MonitoringTopics.alerts,
  type: 'monitoring.alert.resolved',
  version: 1,
  payload: AlertIdentity.extend({
    raisedAt: z.iso.datetime({ offset: true }),
    resolvedAt: z.iso.datetime({ offset: true }),
    outcome: AlertOutcomeSchema,
    reason: z.string(),
    /** Null when the condition cleared by itself (device back online, battery replaced). */
    resolvedBy: AlertActorSchema.nullable(),
    /** Seconds from raised to acknowledged, when it was acknowledged. */
    responseSeconds: z.number().nonnegative().optional(),
  }),
});
