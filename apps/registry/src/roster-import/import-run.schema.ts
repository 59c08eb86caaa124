import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * One roster upload: who, what, how far it got and how it ended. Updated after every batch, so an
 * operator (or the bench) can watch a long import progress and a crashed one is visible as RUNNING
 * with a stale `updatedAt`.
 */
@Schema({ collection: 'import_runs', versionKey: false })
export class ImportRun {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  kind!: 'ELDER_ROSTER';

  @Prop({ required: true })
  userId!: string;

  /** The importing admin's scope root; who else may read the run's error report. */
  @Prop({ type: String, required: true, index: true })
  regionCode!: string;

  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ required: true })
  fileName!: string;

  @Prop({ type: String, default: null })
  format!: 'csv' | 'xlsx' | null;

  @Prop({ type: String, default: null })
  encoding!: string | null;

  @Prop({ required: true })
  status!: 'RUNNING' | 'COMPLETED' | 'FAILED';

  @Prop({ required: true, default: 0 })
  totalRows!: number;

  @Prop({ required: true, default: 0 })
  created!: number;

  @Prop({ required: true, default: 0 })
  updated!: number;

  @Prop({ required: true, default: 0 })
  unchanged!: number;

  @Prop({ required: true, default: 0 })
  failed!: number;

  /** Error entries (a failed row can have several), all of them in import_errors. */
  @Prop({ required: true, default: 0 })
  errorCount!: number;

  @Prop({ type: Object, default: null })
  failure!: { code: string; message: string; messageZh?: string; row?: number } | null;

  @Prop({ required: true })
  correlationId!: string;

  @Prop({ required: true })
  startedAt!: Date;

  @Prop({ required: true })
  updatedAt!: Date;

  @Prop({ type: Date, default: null })
  finishedAt!: Date | null;

  @Prop({ type: Number, default: null })
  durationMs!: number | null;

  /** Milliseconds per step of the import, summed over the run (plan, prepare, insertElders, commit, audit…). */
  @Prop({ type: Object, default: null })
  timings?: Record<string, number> | null;
}
export const ImportRunSchema = SchemaFactory.createForClass(ImportRun);

/** Every row problem of a run, written batch by batch so the report never has to fit in memory. */
@Schema({ collection: 'import_errors', versionKey: false })
export class ImportError {
  /** `<importId>:<row>:<n>` — deterministic, so a retried batch write cannot double an error. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  importId!: string;

  @Prop({ required: true })
  row!: number;

  @Prop({ required: true })
  seq!: number;

  @Prop({ required: true })
  column!: string;

  @Prop({ required: true })
  code!: string;

  @Prop({ required: true })
  reason!: string;

  @Prop({ required: true })
  reasonZh!: string;
}
export const ImportErrorSchema = SchemaFactory.createForClass(ImportError);
// The download streams a run's errors in spreadsheet-row order (batch errors arrive after parse errors).
ImportErrorSchema.index({ importId: 1, row: 1, seq: 1 });
