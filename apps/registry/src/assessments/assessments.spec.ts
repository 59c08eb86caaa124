import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RegistryTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { bootRegistry, buildRegions, closeRegistry, LUBEI, rosterRow } from '../elders/test-support';
import { ITEMS } from './domain/gbt-42195-2022';

describe('capability assessments (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let sink: Awaited<ReturnType<typeof collect>>;
  const assessor: Principal = { userId: 'assessor-7', role: 'assessor', regionCode: '130203000000' };
  const otherAssessor: Principal = { userId: 'assessor-9', role: 'assessor', regionCode: '130202000000' };
  const scores = (total: number): Record<string, number> => {
    let lost = 90 - total;
    return Object.fromEntries(
      ITEMS.map((i) => {
        const take = Math.min(lost, i.max);
        lost -= take;
        return [i.code, i.max - take];
      }),
    );
  };
  const post = (principal: Principal, elderId: string, body: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `/elders/${elderId}/assessments`, headers: { ...asPrincipal(principal), ...headers }, payload: body });
  let elderId: string;

  beforeAll(async () => {
    app = await bootRegistry();
    sink = await collect(testKafka(), [RegistryTopics.elders.name]);
    await buildRegions(app);
    const res = await app.inject({ method: 'POST', url: '/elders', headers: asPrincipal(LUBEI), payload: rosterRow(301) });
    elderId = res.json().id;
  });
  afterAll(async () => {
    await sink?.stop();
    await closeRegistry(app);
  });

  // The collector reads the shared topic from its beginning, which takes a while on a busy machine.
  it('scores an assessment, sets the elder’s capability level and announces ElderAssessed with the new version', async () => {
    const correlationId = `assess-${uniqueSuffix()}`;
    const res = await post(assessor, elderId, { items: scores(50), assessedOn: '2026-01-15', assessor: '王评估', flags: { riskEventsLast30Days: 2 } }, {
      'x-correlation-id': correlationId,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      assessment: {
        standard: 'GB/T 42195-2022',
        standardVersion: '2022',
        total: 50,
        levelByTotal: 'MODERATE',
        level: 'SEVERE',
        levelZh: '重度失能',
        adjustments: [{ code: 'RISK_EVENTS', from: 'MODERATE', to: 'SEVERE' }],
      },
      elder: { id: elderId, capabilityLevel: 'SEVERE', version: 2 },
    });
    const event = await waitFor(
      () => sink.records.find((r) => r.correlationId === correlationId && r.headers['yiyang-event-type'] === 'registry.elder.assessed'),
      'ElderAssessed',
      50_000,
    );
    expect(event.key).toBe(elderId);
    expect(JSON.parse(event.value).payload).toMatchObject({
      elder: { elderId, capabilityLevel: 'SEVERE', version: 2 },
      assessment: { total: 50, level: 'SEVERE', assessedOn: '2026-01-15' },
      previousLevel: null,
    });
  }, 90_000);

  it('is retry-safe: the same request again changes nothing; different content under the same key is a conflict', async () => {
    const body = { items: scores(70), assessedOn: '2026-02-01', assessor: '李评估' };
    const first = await post(assessor, elderId, body, { 'idempotency-key': 'form-2026-0001' });
    const again = await post(assessor, elderId, body, { 'idempotency-key': 'form-2026-0001' });
    expect(again.json()).toEqual(first.json());
    expect(first.json().elder).toMatchObject({ capabilityLevel: 'MILD', version: 3 });
    const conflict = await post(assessor, elderId, { ...body, items: scores(71) }, { 'idempotency-key': 'form-2026-0001' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('REGISTRY.ASSESSMENT_CONFLICT');

    const list = await app.inject({ method: 'GET', url: `/elders/${elderId}/assessments`, headers: asPrincipal(LUBEI) });
    expect(list.json()).toMatchObject({ total: 2, items: [{ assessedOn: '2026-02-01' }, { assessedOn: '2026-01-15' }] });
  });

  it('keeps a back-dated assessment without letting it displace the latest', async () => {
    const res = await post(assessor, elderId, { items: scores(20), assessedOn: '2025-06-01', assessor: '赵评估' });
    expect(res.json().elder).toMatchObject({ capabilityLevel: 'MILD', version: 4 });
  });

  it('names the offending item and its range', async () => {
    const { stairs: _, ...missing } = scores(90);
    const res = await post(assessor, elderId, { items: missing, assessedOn: '2026-02-02', assessor: '李评估' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'REGISTRY.ASSESSMENT_ITEM_INVALID', field: 'items.stairs' });
    expect(res.json().message).toContain('0 to 3');
    const high = await post(assessor, elderId, { items: { ...scores(90), vision: 3 }, assessedOn: '2026-02-02', assessor: '李评估' });
    expect(high.json()).toMatchObject({ field: 'items.vision', messageZh: '「视力」得分应为 0–2 的整数' });
  });

  it('lets only in-scope assessors and admins record', async () => {
    const body = { items: scores(80), assessedOn: '2026-02-03', assessor: '外区评估' };
    expect((await post(otherAssessor, elderId, body)).statusCode).toBe(404);
    const auditor: Principal = { userId: 'a', role: 'auditor', regionCode: '130203000000' };
    expect((await post(auditor, elderId, body)).statusCode).toBe(403);
  });
});
