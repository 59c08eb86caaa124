import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { DeviceKind } from '@yiyang/contracts';
import { OutboxDocument } from '@yiyang/messaging';

@Schema({ collection: 'devices', versionKey: false })
export class Device extends OutboxDocument {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) vendorId!: string;
  @Prop({ required: true }) externalId!: string;
  @Prop({ type: String, required: true }) kind!: DeviceKind;
  @Prop({ required: true }) model!: string;
  @Prop({ type: String, default: null }) elderId!: string | null;
  @Prop({ type: String, default: null }) facilityId!: string | null;
  @Prop({ required: true }) regionCode!: string;
  @Prop({ type: [String], required: true, index: true }) regionPath!: string[];
  @Prop({ type: Object, default: null }) location!: { lat: number; lng: number } | null;
  @Prop({ type: Date, default: null }) boundSince!: Date | null;
  @Prop({ required: true }) heartbeatIntervalSec!: number;
  @Prop({ type: Number, default: null }) battery!: number | null;
  @Prop({ required: true }) active!: boolean;
  @Prop({ required: true }) updatedAt!: Date;
}
export const DeviceSchema = SchemaFactory.createForClass(Device);
// One vendor cannot register one physical device twice; ingestion maps (vendor, externalId) → device.
DeviceSchema.index({ vendorId: 1, externalId: 1 }, { unique: true });
