import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import type { CapabilityLevel } from '@yiyang/contracts';
import type { AppliedAdjustment, AssessmentFlags, Indicator } from './domain/gbt-42195-2022';

/** Every assessment is kept, scored by the edition it names; the elder shows the latest. */
@Schema({ collection: 'assessments', versionKey: false })
export class Assessment {
  /** Deterministic (see AssessmentsService.idFor): a retried request finds its first attempt. */
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true, index: true })
  elderId!: string;

  @Prop({ type: [String], required: true, index: true })
  regionPath!: string[];

  @Prop({ required: true })
  standard!: string;

  @Prop({ required: true })
  standardVersion!: string;

  @Prop({ type: Object, required: true })
  items!: Record<string, number>;

  @Prop({ type: Object, required: true })
  subtotals!: Record<Indicator, number>;

  @Prop({ required: true })
  total!: number;

  @Prop({ type: String, required: true })
  levelByTotal!: CapabilityLevel;

  @Prop({ type: String, required: true })
  level!: CapabilityLevel;

  @Prop({ type: [Object], default: [] })
  adjustments!: AppliedAdjustment[];

  @Prop({ type: Object, required: true })
  flags!: AssessmentFlags;

  @Prop({ required: true })
  assessedOn!: string;

  /** The assessor who signed the form (评估员). */
  @Prop({ required: true })
  assessor!: string;

  @Prop({ type: Object, required: true })
  recordedBy!: { userId: string; role: string };

  @Prop({ required: true })
  recordedAt!: Date;

  /** Fingerprint of the scored input: a retry must carry the same one, else it is a conflict. */
  @Prop({ required: true })
  digest!: string;

  /** False between storing the assessment and applying it to the elder; a sweeper finishes stragglers. */
  @Prop({ required: true, index: true })
  appliedToElder!: boolean;
}

export const AssessmentSchema = SchemaFactory.createForClass(Assessment);
