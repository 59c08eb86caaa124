import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { AlertKind } from '@yiyang/contracts';
import type { VitalsSample } from './domain/rules';

/** The rule engine's state of one device, checkpointed (see rules.consumer.ts for when). */
@Schema({ collection: 'rule_device_state', versionKey: false })
export class DeviceRuleStateDoc {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) lastSeenAt!: number;
  @Prop({ type: Number, default: null }) battery!: number | null;
  @Prop({ default: 0 }) batteryAt!: number;
  @Prop({ type: Number, default: null }) lowBatterySince!: number | null;
  @Prop({ type: [Object], default: [] }) vitals!: VitalsSample[];
  @Prop({ type: Number, default: null }) vitalsEpisode!: number | null;
  @Prop({ type: Object, default: {} }) lastTrigger!: Partial<Record<AlertKind, number>>;
  @Prop({ type: Number, default: null }) silentSince!: number | null;
  @Prop({ required: true }) updatedAt!: Date;
}
export const DeviceRuleStateSchema = SchemaFactory.createForClass(DeviceRuleStateDoc);

@Schema({ collection: 'rule_elder_state', versionKey: false })
export class ElderRuleStateDoc {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) lastActivityAt!: number;
  @Prop({ type: Number, default: null }) inactiveSince!: number | null;
  @Prop({ required: true }) updatedAt!: Date;
}
export const ElderRuleStateSchema = SchemaFactory.createForClass(ElderRuleStateDoc);

/** Per-elder thresholds; fields left out use the platform default. */
@Schema({ collection: 'alert_thresholds', versionKey: false })
export class AlertThresholdDoc {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: [String], required: true }) regionPath!: string[];
  @Prop({ type: Object, required: true }) thresholds!: Record<string, number>;
  @Prop({ required: true }) updatedBy!: string;
  @Prop({ required: true }) updatedAt!: Date;
}
export const AlertThresholdSchema = SchemaFactory.createForClass(AlertThresholdDoc);
