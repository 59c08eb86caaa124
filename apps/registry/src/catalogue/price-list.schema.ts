import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OutboxDocument } from '@yiyang/messaging';

export interface PriceEntry {
  priceFen: number;
  effectiveFrom: string;
  recordedAt: Date;
  recordedBy: string;
}

/**
 * One document per provider + item holding its whole price history. Appending to one document keeps
 * the history append-only (money is never updated in place), makes the version guard cover every
 * change of that price, and keeps the PriceChanged events of one provider's item in order.
 */
@Schema({ collection: 'price_lists', versionKey: false })
export class PriceList extends OutboxDocument {
  /** `${providerId}:${itemCode}` — deterministic, so two first prices for a pair collide on _id. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, index: true })
  providerId!: string;

  @Prop({ required: true, index: true })
  itemCode!: string;

  @Prop({ type: [Object], default: [] })
  entries!: PriceEntry[];
}

export const PriceListSchema = SchemaFactory.createForClass(PriceList);
