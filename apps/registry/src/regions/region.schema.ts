import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OutboxDocument } from '@yiyang/messaging';

@Schema({ collection: 'regions', versionKey: false })
export class Region extends OutboxDocument {
  /** The 12-digit statistical division code is the id: stable, meaningful, unique. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  name!: string;

  @Prop({ required: true })
  level!: 'PROVINCE' | 'CITY' | 'COUNTY' | 'STREET' | 'COMMUNITY';

  @Prop({ type: String, default: null, index: true })
  parentCode!: string | null;

  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ type: Object, required: true })
  centre!: { lat: number; lng: number };
}

export const RegionSchema = SchemaFactory.createForClass(Region);
