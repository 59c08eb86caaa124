import { Prop } from '@nestjs/mongoose';
import type { OutboxEntry } from '../outbox';

/**
 * What every aggregate that publishes through the outbox stores beside its state (ADR 0002):
 * a `version` that grows by one per change (the guard for concurrent writes and the ordering of its
 * snapshot events), the pending events, and the flag the relay polls. Schema classes extend it.
 */
export abstract class OutboxDocument {
  @Prop({ required: true, default: 1 })
  version!: number;

  @Prop({ type: [Object], default: [] })
  outbox!: OutboxEntry[];

  @Prop({ default: false })
  outboxPending!: boolean;
}
