import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { ServiceCategory } from '@yiyang/contracts';
import { OutboxDocument } from '@yiyang/messaging';

@Schema({ collection: 'catalogue_items', versionKey: false })
export class CatalogueItem extends OutboxDocument {
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
}

export const CatalogueItemSchema = SchemaFactory.createForClass(CatalogueItem);
