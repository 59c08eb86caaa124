import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';

export interface Deadline {
  _id: string;
  kind: string;
  refId: string;
  dueAt: Date;
  /** A replica that claimed the deadline holds it until then; after a crash another one takes it. */
  claimedUntil: Date;
  claimedBy: string | null;
  attempts: number;
  data?: Record<string, unknown>;
}

/** What a handler returns: nothing (done, the deadline is deleted) or the next due time (recurring job). */
export type DeadlineHandler = (deadline: Deadline) => Promise<Date | void>;

const LEASE_MS = 30_000;

/**
 * Durable deadlines (offer timeouts, emergency acknowledgement deadlines, missing check-outs,
 * recurring generation jobs) as documents, never in-memory timers: a restart or a crash loses none.
 * Every replica polls; a deadline is claimed with one atomic findOneAndUpdate (due, and not claimed
 * or its claim expired), so exactly one replica works it at a time. Handlers are idempotent —
 * they check the aggregate's state — because a claim that expires mid-work is worked again.
 */
@Injectable()
export class Scheduler implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(Scheduler.name);
  private readonly owner = randomUUID();
  private readonly handlers = new Map<string, DeadlineHandler>();
  readonly deadlines: Collection<Deadline>;
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    @InjectConnection() connection: Connection,
    @Inject(ConfigService) private readonly config: ConfigService,
  ) {
    this.deadlines = connection.collection<Deadline>('deadlines') as never;
  }

  async onModuleInit(): Promise<void> {
    await this.deadlines.createIndex({ dueAt: 1 });
  }

  on(kind: string, handler: DeadlineHandler): void {
    this.handlers.set(kind, handler);
  }

  /** Sets (or moves) a deadline; `_id` is deterministic so re-scheduling the same thing is idempotent. */
  async schedule(id: string, kind: string, refId: string, dueAt: Date, data?: Record<string, unknown>): Promise<void> {
    await this.deadlines.updateOne(
      { _id: id },
      { $set: { kind, refId, dueAt, claimedUntil: new Date(0), claimedBy: null, attempts: 0, ...(data ? { data } : {}) } },
      { upsert: true },
    );
    // Wake the loop only for a deadline due before its next poll: every pass is a claim (a write
    // that scans the deadlines on FerretDB), and the bulk intake schedules one deadline per round.
    if (dueAt.getTime() <= Date.now() + this.pollMs()) this.wake?.();
  }

  /** Schedules only if absent (recurring jobs every replica ensures at boot). */
  async ensure(id: string, kind: string, refId: string, dueAt: Date): Promise<void> {
    try {
      await this.deadlines.insertOne({ _id: id, kind, refId, dueAt, claimedUntil: new Date(0), claimedBy: null, attempts: 0 });
    } catch {
      /* already scheduled */
    }
  }

  async cancel(id: string): Promise<void> {
    await this.deadlines.deleteOne({ _id: id });
  }

  private pollMs(): number {
    return Number(this.config.get('DISPATCH_SCHEDULER_POLL_MS') ?? 1000);
  }

  onApplicationBootstrap(): void {
    if (process.env['DISPATCH_SCHEDULER'] === 'off') return;
    this.running = true;
    this.loop = this.run();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Claims and works every due deadline once; returns how many were worked. */
  async tick(now = new Date()): Promise<number> {
    let worked = 0;
    // A recurring job rescheduled during this pass may be due again by `now` (a test's clock ahead of
    // the real one): each deadline is worked at most once per pass.
    const seen: string[] = [];
    for (;;) {
      const claimed = await this.deadlines.findOneAndUpdate(
        { dueAt: { $lte: now }, claimedUntil: { $lte: now }, ...(seen.length ? { _id: { $nin: seen } } : {}) },
        { $set: { claimedUntil: new Date(now.getTime() + LEASE_MS), claimedBy: this.owner }, $inc: { attempts: 1 } },
        { sort: { dueAt: 1 }, returnDocument: 'after' },
      );
      if (!claimed) return worked;
      seen.push(claimed._id);
      worked++;
      const handler = this.handlers.get(claimed.kind);
      try {
        if (!handler) throw new Error(`no handler for deadline kind ${claimed.kind}`);
        const next = await handler(claimed);
        if (next) {
          await this.deadlines.updateOne({ _id: claimed._id, claimedBy: this.owner }, { $set: { dueAt: next, claimedUntil: new Date(0), claimedBy: null, attempts: 0 } });
        } else {
          await this.deadlines.deleteOne({ _id: claimed._id, claimedBy: this.owner, dueAt: claimed.dueAt });
        }
      } catch (err) {
        // Back off: leave it claimed for a while, then any replica retries it.
        const backoff = Math.min(60_000, 1_000 * 2 ** Math.min(claimed.attempts, 6));
        this.log.warn({ err, deadline: claimed._id }, 'deadline handler failed; will retry');
        await this.deadlines.updateOne({ _id: claimed._id, claimedBy: this.owner }, { $set: { claimedUntil: new Date(Date.now() + backoff) } }).catch(() => undefined);
      }
      if (!this.running && worked > 0) return worked;
    }
  }

  private async run(): Promise<void> {
    const poll = this.pollMs();
    while (this.running) {
      try {
        await this.tick();
      } catch (err) {
        this.log.warn({ err }, 'scheduler pass failed');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, poll);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }
}
