import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * Append-only: the service has no code path that updates or deletes an entry. Who did what to
 * whose personal data, when, from where — what a PIPL audit asks for.
 */
@Schema({ collection: 'audit_log', versionKey: false })
export class AuditEntry {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, index: true })
  at!: Date;

  @Prop({ required: true, index: true })
  action!: string;

  @Prop({ type: Object, required: true })
  actor!: { userId: string; role: string };

  @Prop({ type: String, default: null, index: true })
  elderId!: string | null;

  /** Batch entries (roster import): every elder the batch registered or changed. */
  @Prop({ type: [String], default: undefined, index: true })
  elderIds?: string[];

  /** The record's region path at the time, so an auditor sees exactly their subtree's entries. */
  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ type: [String], default: [] })
  fields!: string[];

  @Prop({ type: String, default: null })
  correlationId!: string | null;

  @Prop({ type: String, default: null })
  ip!: string | null;

  @Prop({ type: Object, default: null })
  details!: Record<string, unknown> | null;
}

export const AuditEntrySchema = SchemaFactory.createForClass(AuditEntry);
