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

/**
 * Fund budgets: allocation, region and held amount as billing's threshold events last reported
 * them, plus `drawnFen` — the subsidy drawn on the budget by every posted charge and caregiver
 * subsidy since (net of reversals), counted as the ledger events arrive, so spent-vs-budget is
 * current between thresholds. `regionCode`/`allocatedFen` stay null until the first threshold event
 * names them (billing publishes no allocation event).
 */
@Schema({ collection: 'budget_facts', versionKey: false })
export class BudgetFact {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ type: String, default: null }) regionCode!: string | null;
  @Prop({ required: true }) year!: number;
  @Prop({ required: true }) fundSource!: string;
  @Prop({ type: Number, default: null }) allocatedFen!: number | null;
  /** Highest spent figure billing reported in a threshold event. */
  @Prop({ default: 0 }) spentFen!: number;
  @Prop({ default: 0 }) heldFen!: number;
  /** Subsidy drawn on this budget by ledger events (ChargePosted/CaregiverSubsidyPosted parts − reversals). */
  @Prop({ default: 0 }) drawnFen!: number;
  /** Event ids being applied (exactly-once guard, see FiguresStore.applyBudgetDraws). */
  @Prop({ type: [String], default: [] }) pending!: string[];
}

/** The budget parts of a posted charge, kept so a reversal can give them back to the right budgets. */
@Schema({ collection: 'charge_budget_parts', versionKey: false })
export class ChargeBudgetParts {
  @Prop({ type: String, required: true }) _id!: string;
  @Prop({ required: true }) subsidyFen!: number;
  @Prop({ type: [Object], required: true }) parts!: { budgetId: string; fundSource: string; amountFen: number }[];
  @Prop({ required: true }) year!: number;
}
export const ChargeBudgetPartsSchema = SchemaFactory.createForClass(ChargeBudgetParts);
export const BudgetFactSchema = SchemaFactory.createForClass(BudgetFact);
