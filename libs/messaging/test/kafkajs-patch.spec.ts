import fc from 'fast-check';
import { EventPublisher, ensureTopics } from '../src';
import { collect, testKafka, testTopic, waitFor } from '../src/testing';

// patches/kafkajs+2.2.4.patch rewrites kafkajs's per-record produce and fetch paths for speed (one
// buffer per partition's record batch, linear grouping, 32-bit murmur2, slicing-by-8 CRC-32C,
// record decoding in plain numbers). These hold it to what kafkajs wrote and read before, byte for
// byte and field for field, and to what the broker and the Java client expect.

type Encoded = { buffer: Buffer };
const produceRequestV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as ((args: object) => {
  encode(): Promise<Encoded>;
}) & { fastRecordEncoding?: boolean };
// Record v0 and RecordBatch v0 are not patched: they are kafkajs's own encoding, the reference.
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => Encoded;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: object) => Promise<Encoded & { size(): number }> };
const Encoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeString(v: string | null): unknown;
  writeInt16(v: number): unknown;
  writeInt32(v: number): unknown;
  writeEncoder(v: unknown): unknown;
  writeArray(v: unknown[]): unknown;
  buffer: Buffer;
};
const Long = require('kafkajs/src/utils/long') as {
  fromInt(v: number): unknown;
  fromValue(v: unknown): { add(d: unknown): { toString(): string } };
};
type Decoding = {
  readInt8(): number;
  readVarLong(): unknown;
  readVarInt(): number;
  readVarIntBytes(): Buffer | null;
  readVarIntArray<T>(reader: (d: Decoding) => T): T[];
};
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => Decoding;
const HeaderDecoder = require('kafkajs/src/protocol/recordBatch/header/v0/decoder') as (d: Decoding) => { key: string; value: Buffer };
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (d: Decoding, context: object) => Record<string, unknown>;
const murmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: string | Buffer) => number;
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (b: Buffer) => number;

interface Message {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
  timestamp?: string;
}
interface Partition {
  partition: number;
  firstSequence: number;
  messages: Message[];
}

/** kafkajs 2.2.4's produce v3 request encoding as shipped (its partitionsEncoder, uncompressed). */
async function shippedEncoding(args: { transactionalId?: string; producerId: unknown; producerEpoch: number; partitions: Partition[] }): Promise<Buffer> {
  const partitions = [];
  for (const { partition, firstSequence, messages } of args.partitions) {
    const dateNow = Date.now();
    const stamps = messages.map((m) => m.timestamp).filter((t) => t != null).sort();
    const timestamps = stamps.length === 0 ? [dateNow] : stamps;
    const firstTimestamp = timestamps[0] as number;
    const records = messages.map((message, i) =>
      Record({ ...message, offsetDelta: i, timestampDelta: (Number(message.timestamp) || dateNow) - firstTimestamp }),
    );
    const batch = await RecordBatch({
      records,
      firstTimestamp,
      maxTimestamp: timestamps[timestamps.length - 1],
      producerId: args.producerId,
      producerEpoch: args.producerEpoch,
      firstSequence,
      transactional: !!args.transactionalId,
      lastOffsetDelta: records.length - 1,
    });
    const encoded = new Encoder();
    encoded.writeInt32(partition);
    encoded.writeInt32(batch.size());
    encoded.writeEncoder(batch);
    partitions.push(encoded);
  }
  const topic = new Encoder();
  topic.writeString('topic-a');
  topic.writeArray(partitions);
  const request = new Encoder();
  request.writeString(args.transactionalId ?? null);
  request.writeInt16(-1);
  request.writeInt32(30_000);
  request.writeArray([topic]);
  return request.buffer;
}

/** kafkajs 2.2.4's Record v0 decoder as shipped. */
function shippedRecordDecoding(decoder: Decoding, context: { firstOffset: string; firstTimestamp: string; timestampType: number; maxTimestamp: string; magicByte: number }) {
  const attributes = decoder.readInt8();
  const timestampDelta = decoder.readVarLong();
  const timestamp =
    context.timestampType === 1 && context.maxTimestamp ? context.maxTimestamp : Long.fromValue(context.firstTimestamp).add(timestampDelta).toString();
  const offsetDelta = decoder.readVarInt();
  const offset = Long.fromValue(context.firstOffset).add(offsetDelta).toString();
  const key = decoder.readVarIntBytes();
  const value = decoder.readVarIntBytes();
  const headers = decoder.readVarIntArray(HeaderDecoder).reduce<Record<string, Buffer | Buffer[]>>((obj, { key: k, value: v }) => {
    const before = obj[k];
    return { ...obj, [k]: before === undefined ? v : Array.isArray(before) ? before.concat([v]) : [before, v] };
  }, {});
  return { magicByte: context.magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: false, batchContext: context };
}

const bytes = fc.oneof(fc.string({ unit: 'binary', maxLength: 600 }), fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)));
const message: fc.Arbitrary<Message> = fc.record(
  {
    key: fc.option(bytes, { nil: null }),
    value: fc.option(bytes, { nil: null }),
    headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.oneof(bytes, fc.array(bytes, { maxLength: 3 })), { maxKeys: 3 }),
    timestamp: fc.integer({ min: -100_000, max: 100_000 }).map((d) => String(1_790_000_000_000 + d)),
  },
  { requiredKeys: ['value'] },
);

describe('kafkajs as patched (patches/kafkajs+2.2.4.patch)', () => {
  it('is applied (npm install runs patch-package)', () => {
    expect(produceRequestV3.fastRecordEncoding).toBe(true);
  });

  it('encodes a produce request byte for byte as kafkajs did', async () => {
    const now = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ partition: fc.nat(50), firstSequence: fc.nat(1_000_000), messages: fc.array(message, { maxLength: 40 }) }), { minLength: 1, maxLength: 4 }),
          fc.option(fc.constant('tx-1'), { nil: undefined }),
          fc.nat(1_000_000),
          async (partitions, transactionalId, producerId) => {
            const args = { transactionalId, producerId: Long.fromInt(producerId), producerEpoch: 3, partitions };
            const request = produceRequestV3({ acks: -1, timeout: 30_000, ...args, topicData: [{ topic: 'topic-a', partitions }] });
            expect((await request.encode()).buffer.equals(await shippedEncoding(args))).toBe(true);
          },
        ),
        { numRuns: 200 },
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('decodes records field for field as kafkajs did', () => {
    const int64 = fc.oneof(fc.integer({ min: -1, max: 2 ** 45 }), fc.bigInt({ min: 2n ** 52n, max: 2n ** 63n - 1n })).map(String);
    fc.assert(
      fc.property(
        message,
        fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map((b) => Long.fromValue(b.toString()))),
        fc.nat(100_000),
        fc.record({ firstOffset: int64, firstTimestamp: int64, maxTimestamp: int64, timestampType: fc.constantFrom(0, 1), magicByte: fc.constant(2) }),
        (m, timestampDelta, offsetDelta, context) => {
          const headers = { ...m.headers, ['__proto__']: 'p' }; // a header named like Object's prototype stays a plain header
          const encoded = Record({ ...m, headers, timestampDelta, offsetDelta }).buffer;
          const body = () => new Decoder(new Decoder(encoded).readVarIntBytes() as Buffer);
          const patched = RecordDecoder(body(), context);
          expect(patched).toEqual(shippedRecordDecoding(body(), context));
          expect(Object.getPrototypeOf(patched['headers'])).toBe(Object.prototype);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hashes keys as the Java client does (Kafka UtilsTest vectors)', () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) {
      expect(murmur2(key)).toBe(hash);
      expect(murmur2(Buffer.from(key))).toBe(hash);
    }
  });

  it('checksums as CRC-32C defines it, at every length and offset', () => {
    const bytewise = (b: Buffer) => {
      let crc = ~0;
      for (const byte of b) {
        crc ^= byte;
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
      }
      return ~crc >>> 0;
    };
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283); // the standard check value
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(7), (a, skip) => {
        const b = Buffer.from(a).subarray(Math.min(skip, a.length));
        expect(crc32C(b)).toBe(bytewise(b));
      }),
    );
  });

  it('round-trips through the broker onto the partitions the Java client picks', async () => {
    const kafka = testKafka();
    const topic = testTopic('encoding', 6);
    await ensureTopics(kafka, [topic]);
    const collector = await collect(kafka, [topic.name]);
    const publisher = new EventPublisher(kafka);
    try {
      const sent = Array.from({ length: 3_000 }, (_, i) => ({
        topic: topic.name,
        key: `device-${i % 97}-设备`,
        value: JSON.stringify({ i, text: '颐养'.repeat(i % 40) }),
        headers: { 'event-type': 'test.encoding', n: String(i) },
      }));
      await publisher.send(sent);
      await waitFor(() => collector.records.length >= sent.length, 'all records back');
      const byN = new Map(collector.records.map((r) => [r.headers['n'], r]));
      for (const [i, s] of sent.entries()) {
        const got = byN.get(String(i));
        expect(got).toMatchObject({ key: s.key, value: s.value, partition: (murmur2(s.key) & 0x7fffffff) % 6 });
      }
      expect(collector.records).toHaveLength(sent.length);
    } finally {
      await publisher.disconnect();
      await collector.stop();
    }
  });
});
