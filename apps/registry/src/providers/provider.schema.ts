import { Prop, Schema, SchemaFactory } from '@nestjs/mongoose';
import { OutboxDocument } from '@yiyang/messaging';

export interface ServiceContractEntry {
  contractId: string;
  regionCode: string;
  regionPath: string[];
  facilityId: string | null;
  validFrom: string;
  /** null = open-ended. */
  validTo: string | null;
  version: number;
}

@Schema({ collection: 'providers', versionKey: false })
export class Provider extends OutboxDocument {
  @Prop({ type: String, required: true })
  _id!: string;

  @Prop({ required: true })
  name!: string;

  @Prop({ type: String, required: true })
  type!: 'SOCIAL_ORGANISATION' | 'COMPANY' | 'PUBLIC_INSTITUTION';

  /** Required as well as unique: FerretDB would let any number of missing values past the index (ADR 0001). */
  @Prop({ required: true, unique: true })
  licenceNumber!: string;

  @Prop({ required: true })
  contactPhone!: string;

  @Prop({ type: [String], required: true })
  serviceAreas!: string[];

  /**
   * Every ancestor of every service area: a bureau sees a provider when it serves anywhere in the
   * bureau's subtree — the same one-equality scope match that region-owned records use.
   */
  @Prop({ type: [String], required: true, index: true })
  areaPaths!: string[];

  @Prop({ type: [String], default: [], index: true })
  offeredItems!: string[];

  @Prop({ required: true, index: true })
  active!: boolean;

  /**
   * Service contracts live in their provider's document. The overlap rule ("no two contracts of one
   * provider for one region at once") is then checked and written under one version guard — without
   * transactions no other layout makes that check race-free — and the contract events, keyed by
   * providerId, come from the document that holds them, so they stay in order with ProviderUpserted.
   */
  @Prop({ type: [Object], default: [] })
  contracts!: ServiceContractEntry[];

  /** Guards contract writes separately from `version`, so editing a provider and signing a contract do not collide. */
  @Prop({ required: true, default: 0 })
  contractsRevision!: number;
}

export const ProviderSchema = SchemaFactory.createForClass(Provider);
ProviderSchema.index({ 'contracts.regionPath': 1 });
