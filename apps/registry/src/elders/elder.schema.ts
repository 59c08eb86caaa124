import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { AbsenceKind, CapabilityLevel, ElderCategory, ElderStatus, Gender } from '@yiyang/contracts';
import { OutboxDocument } from '@yiyang/messaging';

export interface StoredGuardian {
  guardianId: string;
  name: string;
  relation: string;
  phoneCipher: string;
  phoneHash: string;
}

export interface StatusHistoryEntry {
  from: ElderStatus;
  to: ElderStatus;
  on: string;
  reason: string;
  by: string;
}

/** A temporary absence (away, in hospital); the elder stays ACTIVE. Instants are ISO strings in UTC. */
export interface StoredAbsence {
  absenceId: string;
  kind: AbsenceKind;
  from: string;
  /** Exclusive end; null while open-ended. */
  to: string | null;
  note: string | null;
  recordedBy: string;
  recordedAt: string;
  endedBy: string | null;
  version: number;
}

export interface LatestAssessment {
  assessmentId: string;
  standard: string;
  standardVersion: string;
  total: number;
  level: CapabilityLevel;
  assessedOn: string;
}

/**
 * One elder. `regionPath`, `categories`, `homeCell` and `status` are read by name by other features
 * (coverage) — keep them. ID number and phones exist only as ciphertext + keyed hash.
 */
@Schema({ collection: 'elders', versionKey: false, timestamps: true })
export class Elder extends OutboxDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, index: true })
  name!: string;

  @Prop({ type: String, required: true })
  gender!: Gender;

  /** ISO date; string order is date order, so "born on or before" is a plain range query. */
  @Prop({ required: true })
  birthDate!: string;

  @Prop({ required: true })
  idCardCipher!: string;

  /** Required: FerretDB lets any number of documents without the field past a unique index. */
  @Prop({ required: true, unique: true })
  idCardHash!: string;

  @Prop({ type: String, default: null })
  phoneCipher!: string | null;

  @Prop({ type: String, default: null, index: true })
  phoneHash!: string | null;

  @Prop({ required: true })
  regionCode!: string;

  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ required: true })
  homeAddress!: string;

  @Prop({ type: Object, required: true })
  home!: { lat: number; lng: number };

  @Prop({ required: true, index: true })
  homeCell!: string;

  // Not indexed on their own (nor status): low selectivity, always queried beside regionPath, and
  // every index slows the roster import's bulk inserts.
  @Prop({ type: [String], default: [] })
  categories!: ElderCategory[];

  @Prop({ type: String, default: null })
  capabilityLevel!: CapabilityLevel | null;

  @Prop({ type: Object, default: null })
  latestAssessment!: LatestAssessment | null;

  /** Assessments already applied to this document: a retried recording must not apply twice. */
  @Prop({ type: [String], default: [] })
  assessmentIds!: string[];

  @Prop({ type: String, required: true })
  status!: ElderStatus;

  @Prop({ required: true })
  statusSince!: string;

  @Prop({ type: [Object], default: [] })
  statusHistory!: StatusHistoryEntry[];

  @Prop({ type: [Object], default: [] })
  guardians!: StoredGuardian[];

  @Prop({ type: Object, default: () => ({ caregiverGender: null }) })
  preferences!: { caregiverGender: Gender | null };

  /** Temporary absences, oldest first. Guarded by `absencesRev` (they do not change the elder's snapshot version). */
  @Prop({ type: [Object], default: [] })
  absences!: StoredAbsence[];

  @Prop({ type: Number, default: 0 })
  absencesRev!: number;

  /** Id of the write that produced this version: tells a batch which of its guarded updates won. */
  @Prop({ type: String, default: null })
  changeId!: string | null;

  createdAt?: Date;
  updatedAt?: Date;
}

export const ElderSchema = SchemaFactory.createForClass(Elder);
