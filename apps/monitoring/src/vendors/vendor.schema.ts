import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/** A vendor platform that pushes device readings. Only a hash of its API key is stored. */
@Schema({ collection: 'vendors', versionKey: false })
export class Vendor {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) name!: string;
  /** SHA-256 (hex) of the key's secret part. The key has 256 random bits, so a fast hash is enough. */
  @Prop({ required: true }) keyHash!: string;
  /** First characters of the key, shown so people can tell keys apart. */
  @Prop({ required: true }) keyHint!: string;
  @Prop({ required: true }) keyIssuedAt!: Date;
  @Prop({ required: true }) active!: boolean;
  @Prop({ required: true }) createdBy!: string;
  @Prop({ required: true }) createdAt!: Date;
}
export const VendorSchema = SchemaFactory.createForClass(Vendor);
