import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { Role } from '@yiyang/service-kit';

/**
 * A person who signs in. `_id` is the (lower-case, immutable) username: sign-in reads by `_id`,
 * the one lookup FerretDB serves from an index (ADR 0001), and uniqueness comes for free.
 */
@Schema({ collection: 'users', versionKey: false })
export class User {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  displayName!: string;

  @Prop({ type: String, required: true })
  role!: Role;

  /** The region the account is managed under (and, for admins/assessors/auditors, its scope). */
  @Prop({ required: true })
  regionCode!: string;

  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ type: String, default: null })
  providerId!: string | null;

  @Prop({ type: String, default: null })
  caregiverId!: string | null;

  @Prop({ type: [String], default: [] })
  elderIds!: string[];

  @Prop({ required: true })
  passwordHash!: string;

  @Prop({ required: true })
  passwordChangedAt!: Date;

  @Prop({ default: 0 })
  failedLogins!: number;

  @Prop({ type: Date, default: null })
  lockedUntil!: Date | null;

  @Prop({ default: true })
  active!: boolean;

  @Prop({ required: true })
  createdAt!: Date;

  @Prop({ required: true })
  createdBy!: string;

  @Prop({ required: true })
  updatedAt!: Date;

  @Prop({ type: Date, default: null })
  lastLoginAt!: Date | null;
}
export const UserSchema = SchemaFactory.createForClass(User);

/** A sign-in: the family every refresh token issued from it belongs to. Revoking it ends them all. */
@Schema({ collection: 'sessions', versionKey: false })
export class Session {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, index: true })
  userId!: string;

  @Prop({ required: true })
  createdAt!: Date;

  @Prop({ required: true })
  expiresAt!: Date;

  @Prop({ type: Date, default: null })
  revokedAt!: Date | null;

  @Prop({ type: String, default: null })
  revokedReason!: string | null;

  @Prop({ type: String, default: null })
  ip!: string | null;

  @Prop({ type: String, default: null })
  userAgent!: string | null;
}
export const SessionSchema = SchemaFactory.createForClass(Session);

/** One refresh token; only a SHA-256 of its secret is stored. Used once, then replaced. */
@Schema({ collection: 'refresh_tokens', versionKey: false })
export class RefreshToken {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  sessionId!: string;

  @Prop({ required: true })
  userId!: string;

  @Prop({ required: true })
  secretHash!: string;

  @Prop({ required: true })
  createdAt!: Date;

  @Prop({ required: true })
  expiresAt!: Date;

  @Prop({ type: Date, default: null })
  usedAt!: Date | null;
}
export const RefreshTokenSchema = SchemaFactory.createForClass(RefreshToken);
