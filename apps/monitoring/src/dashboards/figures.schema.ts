import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * Supervision figures of one region for one month (`_id` = `<regionCode>:<yyyy-mm>`): month totals
 * under `m`, each day under `d.dNN`, per provider under `p.<providerId>`. Counters only, updated
 * with `$inc` as events arrive; `pending` holds the ids of events being applied right now (the
 * per-document guard that makes a retried event count once).
 */
@Schema({ collection: 'figures', versionKey: false, strict: false })
export class RegionFigures {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: Object, default: {} }) m!: Record<string, number>;
  @Prop({ type: Object, default: {} }) d!: Record<string, Record<string, number>>;
  @Prop({ type: Object, default: {} }) p!: Record<string, Record<string, number>>;
  @Prop({ type: [String], default: [] }) pending!: string[];
}
export const RegionFiguresSchema = SchemaFactory.createForClass(RegionFigures);

/** Events already applied to the figures (by eventId): a redelivered or re-published event is skipped. */
@Schema({ collection: 'figures_applied', versionKey: false })
export class FiguresApplied {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) done!: boolean;
  @Prop({ type: [String], default: [] }) docs!: string[];
}
export const FiguresAppliedSchema = SchemaFactory.createForClass(FiguresApplied);

/** Fund budgets as billing last reported them (allocated, spent, held). */
@Schema({ collection: 'budget_facts', versionKey: false })
export class BudgetFact {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) regionCode!: string;
  @Prop({ required: true }) year!: number;
  @Prop({ required: true }) fundSource!: string;
  @Prop({ required: true }) allocatedFen!: number;
  @Prop({ required: true }) spentFen!: number;
  @Prop({ required: true }) heldFen!: number;
}
export const BudgetFactSchema = SchemaFactory.createForClass(BudgetFact);
