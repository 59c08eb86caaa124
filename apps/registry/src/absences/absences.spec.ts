import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ElderAbsenceEnded, ElderAbsenceRecorded, RegistryTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { bootRegistry, buildRegions, closeRegistry, LUBEI, LUNAN, rosterRow } from '../elders/test-support';

describe('elder absences (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let sink: Awaited<ReturnType<typeof collect>>;

  const send = (principal: Principal, method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { ...asPrincipal(principal), ...headers }, payload });
  const register = async (n: number) => {
    const res = await send(LUBEI, 'POST', '/elders', rosterRow(n));
    if (res.statusCode !== 201) throw new Error(`register ${n}: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string; regionCode: string };
  };
  const eventsFor = (elderId: string, type: string) =>
    sink.records.map((r) => JSON.parse(r.value)).filter((e) => e.type === type && e.key === elderId);

  beforeAll(async () => {
    app = await bootRegistry();
    sink = await collect(testKafka(), [RegistryTopics.elders.name]);
    await buildRegions(app);
  });
  afterAll(async () => {
    await sink?.stop();
    await closeRegistry(app);
  });

  it('records a hospital stay, refuses an overlapping one, ends it, and publishes both events', async () => {
    const elder = await register(7_001);
    const recorded = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'IN_HOSPITAL', from: '2026-11-10', note: '市人民医院 心内科' });
    expect(recorded.statusCode).toBe(201);
    const absence = recorded.json();
    // A date is a day in China Standard Time: 2026-11-10 begins at 2026-11-09T16:00Z.
    expect(absence).toMatchObject({ elderId: elder.id, kind: 'IN_HOSPITAL', from: '2026-11-09T16:00:00.000Z', to: null, current: true, version: 1 });

    const clash = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'AWAY', from: '2026-11-12T09:00:00+08:00', to: '2026-11-15' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'REGISTRY.ABSENCE_OVERLAP', field: 'from', details: { absenceId: absence.id } });
    expect(clash.json().messageZh).toContain('重叠');

    const ended = await send(LUBEI, 'POST', `/elders/${elder.id}/absences/${absence.id}/end`, { to: '2026-11-14T10:30:00+08:00' });
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toMatchObject({ id: absence.id, to: '2026-11-14T02:30:00.000Z', current: false, version: 2, endedBy: 'lubei-admin' });
    const again = await send(LUBEI, 'POST', `/elders/${elder.id}/absences/${absence.id}/end`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('REGISTRY.ABSENCE_ALREADY_ENDED');

    // After the stay ended, a later trip does not overlap.
    const trip = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'AWAY', from: '2026-11-14T12:00:00+08:00', to: '2026-11-20' });
    expect(trip.statusCode).toBe(201);
    expect(trip.json()).toMatchObject({ from: '2026-11-14T04:00:00.000Z', to: '2026-11-20T16:00:00.000Z' });

    const list = await send(LUBEI, 'GET', `/elders/${elder.id}/absences`);
    expect(list.json()).toMatchObject({ total: 2, items: [{ kind: 'AWAY' }, { kind: 'IN_HOSPITAL' }] });

    const rec = await waitFor(() => eventsFor(elder.id, ElderAbsenceRecorded.type).find((e) => e.payload.absenceId === absence.id), 'ElderAbsenceRecorded');
    expect(rec.payload).toEqual({
      elderId: elder.id,
      absenceId: absence.id,
      kind: 'IN_HOSPITAL',
      from: '2026-11-09T16:00:00.000Z',
      to: null,
      regionCode: elder.regionCode,
      absence: { absenceId: absence.id, elderId: elder.id, regionCode: elder.regionCode, kind: 'IN_HOSPITAL', from: '2026-11-09T16:00:00.000Z', to: null, version: 1 },
    });
    // The note may hold health details: it stays in the registry.
    expect(JSON.stringify(rec)).not.toContain('心内科');
    const end = await waitFor(() => eventsFor(elder.id, ElderAbsenceEnded.type)[0], 'ElderAbsenceEnded');
    expect(end.payload).toMatchObject({ absenceId: absence.id, to: '2026-11-14T02:30:00.000Z', previousTo: null, absence: { version: 2 } });
    expect(ElderAbsenceEnded.payload.safeParse(end.payload).success).toBe(true);
    await waitFor(() => eventsFor(elder.id, ElderAbsenceRecorded.type).length === 2 || undefined, 'second ElderAbsenceRecorded');
    expect(eventsFor(elder.id, ElderAbsenceRecorded.type)).toHaveLength(2);
  });

  it('answers bad input with 400 naming the field (en + zh-CN), and keeps other regions out', async () => {
    const elder = await register(7_002);
    const badKind = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'HOLIDAY', from: '2026-11-10' });
    expect(badKind.statusCode).toBe(400);
    expect(badKind.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'kind' });
    expect(badKind.json().messageZh).toContain('IN_HOSPITAL');
    const badDate = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'AWAY', from: '10/11/2026' });
    expect(badDate.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'from' });
    const backwards = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'AWAY', from: '2026-11-10', to: '2026-11-09' });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json()).toMatchObject({ field: 'to', messageZh: '结束时间须晚于开始时间' });
    const extra = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'AWAY', from: '2026-11-10', ward: 3 });
    expect(extra.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'ward' });

    // Another district's admin learns nothing; an auditor may read but not write; the elder's guardian may read.
    expect((await send(LUNAN, 'POST', `/elders/${elder.id}/absences`, { kind: 'AWAY', from: '2026-11-10' })).statusCode).toBe(404);
    expect((await send(LUNAN, 'GET', `/elders/${elder.id}/absences`)).statusCode).toBe(404);
    const auditor: Principal = { userId: 'auditor-1', role: 'auditor', regionCode: '130203000000' };
    expect((await send(auditor, 'POST', `/elders/${elder.id}/absences`, { kind: 'AWAY', from: '2026-11-10' })).statusCode).toBe(403);
    expect((await send(auditor, 'GET', `/elders/${elder.id}/absences`)).statusCode).toBe(200);
    const guardian: Principal = { userId: 'g-7002', role: 'guardian', elderIds: [elder.id] };
    expect((await send(guardian, 'GET', `/elders/${elder.id}/absences`)).statusCode).toBe(200);
  });

  it('is retry-safe with an Idempotency-Key, and refuses absences of an elder no longer active', async () => {
    const elder = await register(7_003);
    const key = `absence-${uniqueSuffix()}`;
    const body = { kind: 'AWAY', from: '2026-12-01', to: '2026-12-07' };
    const first = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, body, { 'idempotency-key': key });
    const retry = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, body, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(200);
    expect(retry.json().id).toBe(first.json().id);
    expect((await send(LUBEI, 'GET', `/elders/${elder.id}/absences`)).json().total).toBe(1);

    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    expect((await send(LUBEI, 'POST', `/elders/${elder.id}/status`, { status: 'MOVED_OUT', effectiveOn: today, reason: '随子女迁居' })).statusCode).toBe(200);
    const refused = await send(LUBEI, 'POST', `/elders/${elder.id}/absences`, { kind: 'IN_HOSPITAL', from: '2026-12-10' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('REGISTRY.ELDER_NOT_ACTIVE');
  });
});
