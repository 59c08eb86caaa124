import { ALL_TOPICS, EnvelopeSchema, defineEvent, defineTopic } from './index';
import { z } from 'zod';

describe('topic catalogue', () => {
  it('names every topic yiyang.<service>.<aggregate>.v<N>, once', () => {
    const names = ALL_TOPICS.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^yiyang\.(registry|dispatch|billing|monitoring)\.[a-z-]+\.v\d+$/);
  });

  it('refuses a topic whose name breaks the rule', () => {
    expect(() => defineTopic({ name: 'elders', partitions: 1, key: 'id' })).toThrow(/yiyang\.<service>/);
    expect(() => defineTopic({ name: 'yiyang.registry.elders.v1', partitions: 0, key: 'id' })).toThrow(/partitions/);
  });

  it('refuses an event type that is not dotted lower-case', () => {
    const topic = ALL_TOPICS[0];
    expect(() => defineEvent({ topic, type: 'ElderRegistered', version: 1, payload: z.object({}) })).toThrow();
  });
});

describe('envelope schema', () => {
  const valid = {
    eventId: '01936b2e-8a4f-7c3e-9d2a-5b6c7d8e9f00',
    type: 'registry.elder.registered',
    version: 1,
    occurredAt: '2026-11-23T08:00:00.000+08:00',
    producer: 'registry',
    key: 'elder-1',
    correlationId: 'req-1',
    causationId: null,
    payload: { any: 'thing' },
  };

  it('accepts a complete envelope', () => {
    expect(EnvelopeSchema.parse(valid).key).toBe('elder-1');
  });

  it.each(['eventId', 'type', 'occurredAt', 'producer', 'key', 'correlationId'])('rejects an envelope without %s', (field) => {
    const broken: Record<string, unknown> = { ...valid };
    delete broken[field];
    const result = EnvelopeSchema.safeParse(broken);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0].path).toEqual([field]);
  });
});
