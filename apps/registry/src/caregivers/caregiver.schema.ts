import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OutboxDocument } from '@yiyang/messaging';

@Schema({ collection: 'caregivers', versionKey: false })
export class Caregiver extends OutboxDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, index: true })
  providerId!: string;

  @Prop({ type: String, required: true, index: true })
  kind!: 'CAREGIVER' | 'VOLUNTEER' | 'SOCIAL_WORKER';

  @Prop({ required: true })
  name!: string;

  @Prop({ type: String, required: true })
  gender!: 'FEMALE' | 'MALE';

  /** The worker's base community. */
  @Prop({ required: true })
  regionCode!: string;

  /** Ancestors of regionCode: bureaus see the workers based in their subtree. */
  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ type: [String], default: [], index: true })
  skills!: string[];

  @Prop({ type: [Object], default: [] })
  certifications!: { name: string; number: string; expiresOn: string }[];

  @Prop({ type: Object, required: true })
  homeBase!: { lat: number; lng: number };

  /** H3 resolution-9 cell of the home base, for "who lives near this elder" in dispatch. */
  @Prop({ required: true, index: true })
  homeBaseCell!: string;

  @Prop({ type: [Object], default: [] })
  weeklyAvailability!: { day: number; from: string; to: string }[];

  @Prop({ required: true, index: true })
  active!: boolean;
}

export const CaregiverSchema = SchemaFactory.createForClass(Caregiver);
