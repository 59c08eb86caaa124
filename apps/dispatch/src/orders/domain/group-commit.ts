/**
 * Group commit: callers submit items concurrently; while one round is being worked, new submissions
 * wait and the next round takes ALL of them at once. No timer, no linger — under load rounds grow
 * by themselves, when idle a single item goes at once. Every caller is answered with its own items'
 * results, or the round's error (each caller then retries on its own: the work must be idempotent).
 */
export class GroupCommit<T, R> {
  private queue: { items: readonly T[]; resolve: (r: R[]) => void; reject: (e: unknown) => void }[] = [];
  private busy = false;

  constructor(
    private readonly work: (items: T[]) => Promise<R[]>,
    /** Largest round; a bigger backlog is worked in several rounds (whole submissions, never split). */
    private readonly maxRound = 5_000,
  ) {}

  submit(items: readonly T[]): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0) {
        const round: typeof this.queue = [];
        let size = 0;
        while (this.queue.length > 0 && (round.length === 0 || size + this.queue[0].items.length <= this.maxRound)) {
          const next = this.queue.shift() as (typeof this.queue)[number];
          round.push(next);
          size += next.items.length;
        }
        try {
          const results = await this.work(round.flatMap((s) => s.items));
          let at = 0;
          for (const s of round) {
            s.resolve(results.slice(at, at + s.items.length));
            at += s.items.length;
          }
        } catch (error) {
          for (const s of round) s.reject(error);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
