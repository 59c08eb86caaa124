import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OutboxDocument } from '@yiyang/messaging';

/** 家庭养老床位: an elder's home fitted out and monitored like a nursing bed. */
@Schema({ collection: 'family_care_beds', versionKey: false })
export class FamilyCareBed extends OutboxDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  /** One bed record per elder; retiring it sets `active: false` rather than adding a second one. */
  @Prop({ required: true, unique: true })
  elderId!: string;

  /** The elder's community, copied from the elder record when the bed is written. */
  @Prop({ required: true })
  regionCode!: string;

  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ type: String, default: null, index: true })
  providerId!: string | null;

  @Prop({ type: [String], default: [] })
  deviceIds!: string[];

  @Prop({ required: true })
  since!: string;

  @Prop({ required: true, index: true })
  active!: boolean;
}

export const FamilyCareBedSchema = SchemaFactory.createForClass(FamilyCareBed);
