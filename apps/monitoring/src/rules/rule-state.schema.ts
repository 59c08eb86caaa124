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

/** Numbers stored per device in a packed snapshot: lastSeenAt, battery (NaN = unknown), batteryAt, lastActivityAt. */
const FACTS = 4;

/**
 * The monotonic facts of every device of one telemetry partition (`_id: p<partition>`), rewritten
 * per checkpoint instead of one write per device (see rule-engine.ts). `version` guards concurrent
 * writers (two replicas during a rebalance).
 *
 * Stored packed: the device ids as ONE JSON string and the facts as ONE binary of little-endian
 * float64s (FACTS per device, in the ids' order). FerretDB turns every array element into its own
 * JSON value on the single writer: the earlier five array columns cost 41 ms per write of an
 * 833-device partition (24 partitions every RULE_CHECKPOINT_MS: ~1 s of the writer's time in
 * every 5 s at 20,000 devices, with the alert path's writes queued behind it); packed, 7 ms.
 * Documents in the earlier column form are still read (`snapshotEntries`), and rewritten packed.
 */
@Schema({ collection: 'rule_snapshots', versionKey: false })
export class RuleSnapshotDoc {
  @Prop({ type: String, required: true }) _id!: string;
  /** Packed form: JSON array of device ids. */
  @Prop({ type: String }) idsJson?: string;
  /** Packed form: FACTS float64 (LE) per device. */
  @Prop({ type: Buffer }) facts?: Uint8Array | { buffer: Uint8Array };
  // Earlier column form (read only).
  @Prop({ type: [String], default: undefined }) ids?: string[];
  @Prop({ type: [Number], default: undefined }) lastSeenAt?: number[];
  @Prop({ type: [Number], default: undefined }) battery?: (number | null)[];
  @Prop({ type: [Number], default: undefined }) batteryAt?: number[];
  @Prop({ type: [Number], default: undefined }) lastActivityAt?: number[];
  @Prop({ required: true }) version!: number;
  @Prop({ required: true }) updatedAt!: Date;
}

type SnapshotContent = Pick<RuleSnapshotDoc, 'idsJson' | 'facts' | 'ids' | 'lastSeenAt' | 'battery' | 'batteryAt' | 'lastActivityAt'>;

/** The bytes of a stored binary (the driver gives a BSON Binary; a Buffer passes through). */
function bytesOf(b: Uint8Array | { buffer: Uint8Array }): Buffer {
  const u = b instanceof Uint8Array ? b : b.buffer;
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/** The snapshot's devices as entries (packed or the earlier column form). */
export function snapshotEntries(doc: SnapshotContent): SnapshotEntry[] {
  if (typeof doc.idsJson === 'string' && doc.facts) {
    const ids = JSON.parse(doc.idsJson) as string[];
    const buf = bytesOf(doc.facts);
    if (buf.length !== ids.length * FACTS * 8) throw new Error(`snapshot facts hold ${buf.length} bytes for ${ids.length} devices`);
    return ids.map((id, i) => {
      const o = i * FACTS * 8;
      const battery = buf.readDoubleLE(o + 8);
      return [id, buf.readDoubleLE(o), Number.isNaN(battery) ? null : battery, buf.readDoubleLE(o + 16), buf.readDoubleLE(o + 24)];
    });
  }
  const c = doc as Required<Pick<RuleSnapshotDoc, 'ids' | 'lastSeenAt' | 'battery' | 'batteryAt' | 'lastActivityAt'>>;
  return (c.ids ?? []).map((id, i) => [id, c.lastSeenAt?.[i] ?? 0, c.battery?.[i] ?? null, c.batteryAt?.[i] ?? 0, c.lastActivityAt?.[i] ?? 0]);
}

/** Entries → the snapshot's stored (packed) content. */
export function packSnapshot(entries: Iterable<SnapshotEntry>): { idsJson: string; facts: Buffer } {
  const list = Array.isArray(entries) ? (entries as SnapshotEntry[]) : [...entries];
  const ids: string[] = new Array(list.length);
  const facts = Buffer.allocUnsafe(list.length * FACTS * 8);
  for (let i = 0; i < list.length; i++) {
    const [id, seen, battery, batteryAt, activity] = list[i];
    ids[i] = id;
    const o = i * FACTS * 8;
    facts.writeDoubleLE(seen, o);
    facts.writeDoubleLE(battery ?? Number.NaN, o + 8);
    facts.writeDoubleLE(batteryAt, o + 16);
    facts.writeDoubleLE(activity, o + 24);
  }
  return { idsJson: JSON.stringify(ids), facts };
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
