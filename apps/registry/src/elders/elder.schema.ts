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
 *
 * As stored, the profile fields no query reads (gender, ciphertexts, phoneHash, address, home point,
 * guardians, preferences — `PACKED_FIELDS` in elders.service.ts) live packed in the one string
 * `packed` (JSON) on records written since ADR 0006's packing; `hydrate` unpacks them on every read,
 * so this class describes the record as every caller sees it.
 */
@Schema({ collection: 'elders', versionKey: false, timestamps: true })
export class Elder extends OutboxDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  /** Indexed on MongoDB only (the prefix search; FerretDB cannot use it): see EldersService.onModuleInit. */
  @Prop({ required: true })
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

  @Prop({ type: String, default: null })
  phoneHash!: string | null;

  @Prop({ required: true })
  regionCode!: string;

  /** Indexed on MongoDB only (FerretDB cannot narrow an equality on an array element). */
  @Prop({ type: [String], required: true })
  regionPath!: string[];

  @Prop({ required: true })
  homeAddress!: string;

  @Prop({ type: Object, required: true })
  home!: { lat: number; lng: number };

  /** Grouped on by the coverage figures, never filtered on: not indexed. */
  @Prop({ required: true })
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

  /** The packed cold profile fields (JSON), see above; absent on records of the older, unpacked shape. */
  @Prop({ type: String })
  packed?: string;

  /** Id of the write that produced this version: tells a batch which of its guarded updates won. */
  @Prop({ type: String, default: null })
  changeId!: string | null;

  createdAt?: Date;
  updatedAt?: Date;
}

export const ElderSchema = SchemaFactory.createForClass(Elder);
