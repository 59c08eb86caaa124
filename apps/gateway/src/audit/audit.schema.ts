import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';

/**
 * The gateway's audit log: every write that passes through it and every unmasked read of personal
 * data — who, when, what, from where, with which correlation id. Append-only: no code path in the
 * gateway updates or deletes an entry (the collection is only ever `insertMany`'d).
 */
@Schema({ collection: 'audit_log', versionKey: false })
export class GatewayAuditEntry {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, index: true })
  at!: Date;

  @Prop({ required: true, index: true })
  action!: string;

  @Prop({ type: Object, required: true })
  actor!: { userId: string; role: string };

  /** The actor's region path, so an auditor sees exactly the entries of people in their subtree. */
  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ type: String, default: null })
  method!: string | null;

  /** Public path without the query string (ids in the path say which record). */
  @Prop({ type: String, default: null })
  path!: string | null;

  @Prop({ type: Number, default: null })
  status!: number | null;

  @Prop({ type: String, default: null })
  correlationId!: string | null;

  @Prop({ type: String, default: null })
  ip!: string | null;

  @Prop({ type: String, default: null })
  userAgent!: string | null;

  @Prop({ type: Object, default: null })
  details!: Record<string, unknown> | null;
}
export const GatewayAuditEntrySchema = SchemaFactory.createForClass(GatewayAuditEntry);
