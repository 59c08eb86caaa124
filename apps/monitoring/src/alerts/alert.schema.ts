import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { AlertKind, AlertSeverity, DeviceKind, EscalationTarget, EvidenceReading } from '@yiyang/contracts';
import { OutboxDocument } from '@yiyang/messaging';

export type AlertStatus = 'RAISED' | 'ACKNOWLEDGED' | 'RESOLVED' | 'FALSE_ALARM';
export const OPEN_STATUSES: AlertStatus[] = ['RAISED', 'ACKNOWLEDGED'];

export interface AlertStep {
  at: Date;
  action: 'RAISED' | 'ACKNOWLEDGED' | 'ESCALATED' | 'RESOLVED' | 'FALSE_ALARM' | 'EVIDENCE';
  by: string | null;
  note?: string;
}

/**
 * An alert. Its `_id` is derived from (device, rule, episode), so raising the same episode twice —
 * a duplicate reading, a replay after restart, two replicas — is one insert that wins and one refused.
 */
@Schema({ collection: 'alerts', versionKey: false })
export class Alert extends OutboxDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, required: true }) kind!: AlertKind;
  @Prop({ type: String, required: true }) severity!: AlertSeverity;
  @Prop({ type: String, required: true }) status!: AlertStatus;
  @Prop({ required: true }) deviceId!: string;
  @Prop({ type: String, required: true }) deviceKind!: DeviceKind;
  @Prop({ type: String, default: null }) elderId!: string | null;
  @Prop({ type: String, default: null }) facilityId!: string | null;
  @Prop({ required: true }) regionCode!: string;
  @Prop({ type: [String], required: true, index: true }) regionPath!: string[];
  @Prop({ type: Object, default: null }) location!: { lat: number; lng: number } | null;
  /** Epoch ms of the reading that opened the episode. */
  @Prop({ required: true }) episode!: number;
  @Prop({ required: true }) reason!: string;
  @Prop({ type: [Object], default: [] }) evidence!: EvidenceReading[];
  @Prop({ required: true }) raisedAt!: Date;
  /** Who is notified at each escalation level; level 0 is notified when raised. */
  @Prop({ type: [String], required: true }) chain!: EscalationTarget[];
  @Prop({ required: true }) escalationLevel!: number;
  @Prop({ type: Date, default: null }) ackDeadline!: Date | null;
  @Prop({ type: Date, default: null }) acknowledgedAt!: Date | null;
  @Prop({ type: String, default: null }) acknowledgedBy!: string | null;
  @Prop({ type: Date, default: null }) resolvedAt!: Date | null;
  @Prop({ type: String, default: null }) resolvedBy!: string | null;
  @Prop({ type: String, default: null }) resolution!: string | null;
  @Prop({ type: [Object], default: [] }) history!: AlertStep[];
}
export const AlertSchema = SchemaFactory.createForClass(Alert);

/**
 * Pending acknowledgement deadlines, one small document per unacknowledged alert. The escalation
 * poller scans this (not the ever-growing alerts collection); the alert itself stays the truth.
 */
@Schema({ collection: 'alert_deadlines', versionKey: false })
export class AlertDeadline {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) dueAt!: Date;
  @Prop({ required: true }) level!: number;
}
export const AlertDeadlineSchema = SchemaFactory.createForClass(AlertDeadline);
