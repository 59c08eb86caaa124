import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** What monitoring needs to know about an elder (learned from registry events; no PII beyond the name). */
@Schema({ collection: 'elder_facts', versionKey: false })
export class ElderFact {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) regionCode!: string;
  @Prop({ type: [String], required: true }) regionPath!: string[];
  @Prop({ required: true }) name!: string;
  @Prop({ type: Object, required: true }) home!: { lat: number; lng: number };
  @Prop({ type: [String], default: [] }) categories!: string[];
  @Prop({ required: true }) status!: string;
  @Prop({ required: true }) version!: number;
  @Prop({ required: true }) updatedAt!: Date;
}
export const ElderFactSchema = SchemaFactory.createForClass(ElderFact);

@Schema({ collection: 'facility_facts', versionKey: false })
export class FacilityFact {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) kind!: string;
  @Prop({ required: true }) name!: string;
  @Prop({ required: true }) regionCode!: string;
  @Prop({ type: [String], required: true }) regionPath!: string[];
  @Prop({ type: Object, required: true }) location!: { lat: number; lng: number };
  @Prop({ type: String, default: null }) providerId!: string | null;
  @Prop({ required: true }) open!: boolean;
  @Prop({ required: true }) version!: number;
  @Prop({ required: true }) updatedAt!: Date;
}
export const FacilityFactSchema = SchemaFactory.createForClass(FacilityFact);

@Schema({ collection: 'region_facts', versionKey: false })
export class RegionFact {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) name!: string;
  @Prop({ required: true }) level!: string;
  @Prop({ type: String, default: null }) parentCode!: string | null;
  @Prop({ required: true }) version!: number;
  @Prop({ required: true }) updatedAt!: Date;
}
export const RegionFactSchema = SchemaFactory.createForClass(RegionFact);
