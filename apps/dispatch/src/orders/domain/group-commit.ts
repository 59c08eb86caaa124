/**
 * Group commit: callers submit items concurrently; while rounds are being worked, new submissions
 * wait and the next round takes ALL of them at once. No timer, no linger — under load rounds grow
 * by themselves, when idle a single item goes at once. With `concurrency` 2 a second round runs its
 * reads and in-memory work while the first one writes (the database serialises writes anyway).
 * Every caller is answered with its own items' results, or its round's error (each caller then
 * retries on its own: the work must be idempotent).
 */
export class GroupCommit<T, R> {
  private queue: { items: readonly T[]; resolve: (r: R[]) => void; reject: (e: unknown) => void }[] = [];
  private active = 0;

  constructor(
    private readonly work: (items: T[]) => Promise<R[]>,
    /** Largest round; a bigger backlog is worked in several rounds (whole submissions, never split). */
    private readonly maxRound = 5_000,
    private readonly concurrency = 1,
  ) {}

  submit(items: readonly T[]): Promise<R[]> {
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const round: typeof this.queue = [];
      let size = 0;
      while (this.queue.length > 0 && (round.length === 0 || size + this.queue[0].items.length <= this.maxRound)) {
        const next = this.queue.shift() as (typeof this.queue)[number];
        round.push(next);
        size += next.items.length;
      }
      this.active++;
      void this.run(round).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async run(round: typeof this.queue): Promise<void> {
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
}
