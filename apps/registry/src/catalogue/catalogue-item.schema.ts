import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { ServiceCategory } from '@yiyang/contracts';
import type { OutboxEntry } from '@yiyang/messaging';

@Schema({ collection: 'catalogue_items', versionKey: false })
export class CatalogueItem {
  /** The code (`MEAL_DELIVERY`) is the id: orders, skills, prices and subsidies all refer to it. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  nameZh!: string;

  @Prop({ required: true })
  nameEn!: string;

  @Prop({ type: String, required: true, index: true })
  category!: ServiceCategory;

  @Prop({ type: String, required: true })
  unit!: 'PER_VISIT' | 'PER_HOUR' | 'PER_MEAL' | 'PER_DAY' | 'PER_ITEM';

  @Prop({ required: true })
  defaultDurationMinutes!: number;

  @Prop({ required: true, index: true })
  active!: boolean;

  @Prop({ required: true, default: 1 })
  version!: number;

  @Prop({ type: [Object], default: [] })
  outbox!: OutboxEntry[];

  @Prop({ default: false })
  outboxPending!: boolean;
}

export const CatalogueItemSchema = SchemaFactory.createForClass(CatalogueItem);
