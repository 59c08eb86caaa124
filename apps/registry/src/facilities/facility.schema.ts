import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OutboxDocument } from '@yiyang/messaging';

export type FacilityKind = 'STREET_CENTRE' | 'DAY_CARE_STATION' | 'CANTEEN' | 'INSTITUTION';
export interface WeeklySlot {
  day: number;
  from: string;
  to: string;
}

@Schema({ collection: 'facilities', versionKey: false })
export class Facility extends OutboxDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ type: String, required: true, index: true })
  kind!: FacilityKind;

  @Prop({ required: true })
  name!: string;

  @Prop({ required: true })
  regionCode!: string;

  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ required: true })
  address!: string;

  @Prop({ type: Object, required: true })
  location!: { lat: number; lng: number };

  /** H3 resolution-9 cell of the location: the 15-minute service circle is computed from it. */
  @Prop({ required: true, index: true })
  locationCell!: string;

  @Prop({ type: String, default: null, index: true })
  providerId!: string | null;

  @Prop({ type: [Object], default: [] })
  openingHours!: WeeklySlot[];

  /** Day-care places or canteen seats: how many people it serves at once. */
  @Prop({ required: true })
  capacity!: number;

  @Prop({ type: Object, required: true })
  beds!: { total: number; nursing: number; occupied: number };

  @Prop({ required: true, index: true })
  open!: boolean;
}

export const FacilitySchema = SchemaFactory.createForClass(Facility);
