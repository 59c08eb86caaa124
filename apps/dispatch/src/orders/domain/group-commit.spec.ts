import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('works what arrives during a round in one next round, and answers each caller with its own results', async () => {
    const rounds: number[][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const gc = new GroupCommit<number, number>(async (items) => {
      rounds.push(items);
      if (rounds.length === 1) await gate;
      return items.map((i) => i * 10);
    });
    const first = gc.submit([1]);
    const second = gc.submit([2, 3]);
    const third = gc.submit([4]);
    release();
    expect(await first).toEqual([10]);
    expect(await second).toEqual([20, 30]);
    expect(await third).toEqual([40]);
    expect(rounds).toEqual([[1], [2, 3, 4]]);
  });

  it("fails every caller of a failed round, and the next round still runs", async () => {
    let calls = 0;
    const gc = new GroupCommit<number, number>(async (items) => {
      calls++;
      if (calls === 1) throw new Error('database away');
      return items;
    });
    const a = gc.submit([1]);
    const b = gc.submit([2]);
    await expect(a).rejects.toThrow('database away');
    expect(await b).toEqual([2]);
  });

  it('caps a round at whole submissions', async () => {
    const rounds: number[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const gc = new GroupCommit<number, number>(async (items) => {
      rounds.push(items.length);
      if (rounds.length === 1) await gate;
      return items;
    }, 3);
    const all = [gc.submit([0]), gc.submit([1, 2]), gc.submit([3, 4]), gc.submit([5])];
    release();
    await Promise.all(all);
    expect(rounds).toEqual([1, 2, 3]);
  });
});

describe('GroupCommit with two rounds in flight', () => {
  it('starts a second round while the first one is still working, never a third', async () => {
    let inFlight = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const gc = new GroupCommit<number, number>(
      async (items) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise<void>((r) => gates.push(r));
        inFlight--;
        return items;
      },
      5_000,
      2,
    );
    const all = [gc.submit([1]), gc.submit([2]), gc.submit([3]), gc.submit([4])];
    await new Promise((r) => setTimeout(r, 10));
    expect(gates).toHaveLength(2);
    while (gates.length > 0) {
      (gates.shift() as () => void)();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await Promise.all(all)).toEqual([[1], [2], [3], [4]]);
    expect(most).toBe(2);
  });
});
