import { packSnapshot, snapshotEntries, type SnapshotEntry } from './rule-state.schema';

// The partition snapshot is stored packed (ids as one JSON string, facts as one float64 binary);
// documents in the earlier column form must still be read.

describe('rule snapshot format', () => {
  const entries: SnapshotEntry[] = [
    ['dev-1', 1_763_900_000_123, 80, 1_763_900_000_000, 0],
    ['dev-"2"\n', 1_763_900_001_000, null, 0, 1_763_899_000_000],
    ['设备-3', 5, 0, 7, 9],
  ];

  it('round-trips entries, unknown battery included', () => {
    const packed = packSnapshot(entries);
    expect(snapshotEntries(packed)).toEqual(entries);
    // As the driver hands it back: a BSON Binary-like wrapper around the bytes.
    expect(snapshotEntries({ idsJson: packed.idsJson, facts: { buffer: new Uint8Array(packed.facts) } })).toEqual(entries);
  });

  it('reads the earlier column form', () => {
    expect(
      snapshotEntries({
        ids: ['a', 'b'],
        lastSeenAt: [10, 20],
        battery: [50, null],
        batteryAt: [9, 0],
        lastActivityAt: [0, 15],
      }),
    ).toEqual([
      ['a', 10, 50, 9, 0],
      ['b', 20, null, 0, 15],
    ]);
  });

  it('refuses facts that do not match the ids', () => {
    const packed = packSnapshot(entries);
    expect(() => snapshotEntries({ idsJson: packed.idsJson, facts: packed.facts.subarray(8) })).toThrow(/bytes for 3 devices/);
  });
});
