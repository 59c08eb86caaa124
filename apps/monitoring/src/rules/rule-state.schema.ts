import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { AlertKind } from '@yiyang/contracts';
import type { VitalsSample } from './domain/rules';

/** The rule engine's state of one device, checkpointed (see rule-engine.ts for when). */
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

/** [deviceId, lastSeenAt, battery, batteryAt, lastActivityAt] (in memory). */
export type SnapshotEntry = [string, number, number | null, number, number];

/**
 * The monotonic facts of every device of one telemetry partition (`_id: p<partition>`), rewritten
 * per checkpoint instead of one write per device (see rule-engine.ts). `version` guards concurrent
 * writers (two replicas during a rebalance).
 */
@Schema({ collection: 'rule_snapshots', versionKey: false })
export class RuleSnapshotDoc {
  @Prop({ type: String, required: true }) _id!: string;
  // Column per fact (the store takes no nested arrays; columns are also the compact form).
  @Prop({ type: [String], default: [] }) ids!: string[];
  @Prop({ type: [Number], default: [] }) lastSeenAt!: number[];
  @Prop({ type: [Number], default: [] }) battery!: (number | null)[];
  @Prop({ type: [Number], default: [] }) batteryAt!: number[];
  @Prop({ type: [Number], default: [] }) lastActivityAt!: number[];
  @Prop({ required: true }) version!: number;
  @Prop({ required: true }) updatedAt!: Date;
}
/** The snapshot's devices as entries. */
export function snapshotEntries(doc: Pick<RuleSnapshotDoc, 'ids' | 'lastSeenAt' | 'battery' | 'batteryAt' | 'lastActivityAt'>): SnapshotEntry[] {
  return (doc.ids ?? []).map((id, i) => [id, doc.lastSeenAt[i] ?? 0, doc.battery[i] ?? null, doc.batteryAt[i] ?? 0, doc.lastActivityAt[i] ?? 0]);
}

/** Entries → the snapshot's columns. */
export function snapshotColumns(entries: Iterable<SnapshotEntry>): Pick<RuleSnapshotDoc, 'ids' | 'lastSeenAt' | 'battery' | 'batteryAt' | 'lastActivityAt'> {
  const cols = { ids: [] as string[], lastSeenAt: [] as number[], battery: [] as (number | null)[], batteryAt: [] as number[], lastActivityAt: [] as number[] };
  for (const [id, seen, battery, batteryAt, activity] of entries) {
    cols.ids.push(id);
    cols.lastSeenAt.push(seen);
    cols.battery.push(battery);
    cols.batteryAt.push(batteryAt);
    cols.lastActivityAt.push(activity);
  }
  return cols;
}

export const RuleSnapshotSchema = SchemaFactory.createForClass(RuleSnapshotDoc);

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
