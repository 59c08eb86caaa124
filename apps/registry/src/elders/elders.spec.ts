import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RegistryTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal } from '@yiyang/service-kit/testing';
import { composeIdCard } from './domain/id-card';
import { EldersService } from './elders.service';
import { bootRegistry, buildRegions, closeRegistry, LUBEI, LUNAN, rosterRow } from './test-support';

describe('elders (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let sink: Awaited<ReturnType<typeof collect>>;
  const auditor: Principal = { userId: 'auditor-1', role: 'auditor', regionCode: '130203000000' };
  const assessor: Principal = { userId: 'assessor-1', role: 'assessor', regionCode: '130203001000' };

  const send = (principal: Principal, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object, correlationId = `elders-${uniqueSuffix()}`) =>
    app.inject({ method, url, headers: { ...asPrincipal(principal), 'x-correlation-id': correlationId }, payload });
  const register = async (n: number, overrides = {}) => {
    const res = await send(LUBEI, 'POST', '/elders', rosterRow(n, overrides));
    if (res.statusCode !== 201) throw new Error(`register ${n}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const eventsOf = (correlationId: string) =>
    sink.records.filter((r) => r.correlationId === correlationId).map((r) => JSON.parse(r.value));

  beforeAll(async () => {
    app = await bootRegistry();
    sink = await collect(testKafka(), [RegistryTopics.elders.name]);
    await buildRegions(app);
  });
  afterAll(async () => {
    await sink?.stop();
    await closeRegistry(app);
  });

  it('registers an elder, answers masked, and audits every unmasked read', async () => {
    const correlationId = `register-${uniqueSuffix()}`;
    const row = rosterRow(101);
    const phone = String(row.phone);
    const res = await send(LUBEI, 'POST', '/elders', row, correlationId);
    expect(res.statusCode).toBe(201);
    const elder = res.json();
    expect(elder).toMatchObject({
      name: row.name,
      regionCode: row.regionCode,
      regionPath: ['130000000000', '130200000000', '130203000000', '130203001000', row.regionCode],
      idCardNumber: `${row.idCardNumber.slice(0, 6)}********${row.idCardNumber.slice(-4)}`,
      phone: `${phone.slice(0, 3)}****${phone.slice(-4)}`,
      status: 'ACTIVE',
      version: 1,
      revealed: false,
    });
    expect(elder.homeCell).toMatch(/^89/);

    const registered = await waitFor(() => eventsOf(correlationId).find((e) => e.type === 'registry.elder.registered'), 'ElderRegistered');
    expect(registered.payload.elder).toMatchObject({ elderId: elder.id, version: 1 });
    // The snapshot never carries the ID number or the elder's own phone.
    expect(JSON.stringify(registered.payload)).not.toContain(row.idCardNumber);
    expect(JSON.stringify(registered.payload)).not.toContain(phone);

    const revealCorrelation = `reveal-${uniqueSuffix()}`;
    const revealed = await send(assessor, 'GET', `/elders/${elder.id}?reveal=true`, undefined, revealCorrelation);
    expect(revealed.statusCode).toBe(200);
    expect(revealed.json()).toMatchObject({ idCardNumber: row.idCardNumber, phone: row.phone, revealed: true });
    expect((await send(auditor, 'GET', `/elders/${elder.id}?reveal=true`)).statusCode).toBe(403);

    const audit = (await send(auditor, 'GET', `/audit?elderId=${elder.id}&action=ELDER_PII_REVEALED`)).json();
    expect(audit.total).toBe(1);
    expect(audit.items[0]).toMatchObject({
      action: 'ELDER_PII_REVEALED',
      actor: { userId: 'assessor-1', role: 'assessor' },
      elderId: elder.id,
      correlationId: revealCorrelation,
      fields: ['idCardNumber', 'phone', 'guardians.phone'],
    });
    expect((await send(LUNAN, 'GET', `/audit?elderId=${elder.id}`)).json().total).toBe(0);
  });

  it('refuses the same person twice with 409 naming idCardNumber', async () => {
    await register(102);
    const again = await send(LUBEI, 'POST', '/elders', rosterRow(102, { name: '另一个名字', idCardNumber: rosterRow(102).idCardNumber.toLowerCase() }));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'REGISTRY.ELDER_DUPLICATE', field: 'idCardNumber' });
  });

  it('refuses a bad checksum or a birth date that contradicts the ID, naming idCardNumber', async () => {
    const good = rosterRow(103).idCardNumber;
    const badCheck = `${good.slice(0, 17)}${good[17] === '0' ? '1' : '0'}`;
    const checksum = await send(LUBEI, 'POST', '/elders', rosterRow(103, { idCardNumber: badCheck }));
    expect(checksum.statusCode).toBe(400);
    expect(checksum.json()).toMatchObject({ code: 'REGISTRY.ID_CARD_INVALID', field: 'idCardNumber', details: { reason: 'CHECKSUM' } });
    expect(checksum.json().messageZh).toContain('校验码');

    const mismatch = await send(LUBEI, 'POST', '/elders', rosterRow(103, { birthDate: '1950-01-01' }));
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json()).toMatchObject({ code: 'REGISTRY.ID_CARD_INVALID', field: 'idCardNumber', details: { reason: 'BIRTH_DATE_MISMATCH' } });

    const badPhone = await send(LUBEI, 'POST', '/elders', rosterRow(103, { phone: '12345' }));
    expect(badPhone.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'phone' });
  });

  it('derives the birth date from the ID when omitted, and ADVANCED_AGE from the birth date only', async () => {
    const elder = await register(104, { birthDate: undefined, idCardNumber: composeIdCard('130203', '1930-05-05', '041'), gender: 'MALE', categories: ['ADVANCED_AGE', 'LOW_INCOME'] });
    expect(elder.birthDate).toBe('1930-05-05');
    expect(elder.categories).toEqual(['ADVANCED_AGE', 'LOW_INCOME']);
    const young = await register(105, { birthDate: undefined, idCardNumber: composeIdCard('130203', '1960-05-05', '042'), gender: 'FEMALE', categories: ['ADVANCED_AGE'] });
    expect(young.categories).toEqual([]);
  });

  it('adds ADVANCED_AGE when an elder turns 80, once, with the birthday as effective date', async () => {
    const elder = await register(106, { birthDate: undefined, idCardNumber: composeIdCard('130203', '1990-02-10', '051'), gender: 'MALE' });
    const service = app.get(EldersService);
    await service.refreshDerivedCategories(new Date('2070-02-09T12:00:00+08:00'));
    expect((await send(LUBEI, 'GET', `/elders/${elder.id}`)).json()).toMatchObject({ categories: [], version: 1 });
    // Two replicas running the same pass at once still change the elder once.
    await Promise.all([
      service.refreshDerivedCategories(new Date('2070-02-10T08:00:00+08:00')),
      service.refreshDerivedCategories(new Date('2070-02-10T08:00:00+08:00')),
    ]);
    const after = (await send(LUBEI, 'GET', `/elders/${elder.id}`)).json();
    expect(after).toMatchObject({ categories: ['ADVANCED_AGE'], version: 2 });
    const changed = await waitFor(
      () => eventsOf('refresh-categories-2070-02-10').find((e) => e.type === 'registry.elder.categories-changed' && e.payload.elder.elderId === elder.id),
      'ElderCategoriesChanged',
    );
    expect(changed.payload).toMatchObject({ added: ['ADVANCED_AGE'], removed: [], effectiveOn: '2070-02-10', elder: { version: 2 } });
  });

  it('keeps another county’s admin out: 404 for the elder, absent from lists', async () => {
    const elder = await register(107);
    const read = await send(LUNAN, 'GET', `/elders/${elder.id}`);
    expect(read.statusCode).toBe(404);
    expect(read.json().code).toBe('REGISTRY.ELDER_NOT_FOUND');
    expect((await send(LUNAN, 'PATCH', `/elders/${elder.id}`, { name: '改名' })).statusCode).toBe(404);
    const list = (await send(LUNAN, 'GET', '/elders?pageSize=200')).json();
    expect(list.items.map((e: { id: string }) => e.id)).not.toContain(elder.id);
    const own = (await send(LUBEI, 'GET', `/elders?idCardNumber=${rosterRow(107).idCardNumber}`)).json();
    expect(own).toMatchObject({ total: 1, page: 1, pageSize: 20, items: [{ id: elder.id }] });
    expect((await send(LUBEI, 'GET', '/elders?name=测试老人10&regionCode=130203001000')).json().total).toBeGreaterThanOrEqual(6);
  });

  it('shows a guardian only the elders linked to them, read-only', async () => {
    const mine = await register(108);
    const other = await register(109);
    const guardian: Principal = { userId: 'g-1', role: 'guardian', elderIds: [mine.id] };
    expect((await send(guardian, 'GET', `/elders/${mine.id}`)).statusCode).toBe(200);
    expect((await send(guardian, 'GET', `/elders/${other.id}`)).statusCode).toBe(404);
    const list = (await send(guardian, 'GET', '/elders')).json();
    expect(list.items.map((e: { id: string }) => e.id)).toEqual([mine.id]);
    expect((await send(guardian, 'PATCH', `/elders/${mine.id}`, { name: 'x' })).statusCode).toBe(403);
    expect((await send(guardian, 'GET', `/elders/${mine.id}?reveal=true`)).statusCode).toBe(403);
  });

  it('updates with a version guard and announces changed fields and categories', async () => {
    const elder = await register(120);
    const correlationId = `patch-${uniqueSuffix()}`;
    const res = await send(LUBEI, 'PATCH', `/elders/${elder.id}`, { categories: ['DESTITUTE'], homeAddress: '文北小区1号楼', version: 1 }, correlationId);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ categories: ['DESTITUTE'], version: 2 });
    const stale = await send(LUBEI, 'PATCH', `/elders/${elder.id}`, { name: '新名字', version: 1 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('REGISTRY.CONCURRENT_UPDATE');
    expect((await send(LUBEI, 'PATCH', `/elders/${elder.id}`, { status: 'DECEASED' })).json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT' });

    const events = await waitFor(() => {
      const found = eventsOf(correlationId);
      return found.length === 2 ? found : undefined;
    }, 'ElderUpdated + ElderCategoriesChanged');
    expect(events.map((e) => e.type)).toEqual(['registry.elder.updated', 'registry.elder.categories-changed']);
    expect(events[0].payload.changedFields.sort()).toEqual(['categories', 'homeAddress']);
    expect(events[1].payload).toMatchObject({ added: ['DESTITUTE'], elder: { version: 2 } });
  });

  it('treats DECEASED as final', async () => {
    const elder = await register(111);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const moved = await send(LUBEI, 'POST', `/elders/${elder.id}/status`, { status: 'DECEASED', effectiveOn: today, reason: '病故' });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ status: 'DECEASED', statusSince: today, version: 2, statusHistory: [{ from: 'ACTIVE', to: 'DECEASED', reason: '病故', by: 'lubei-admin' }] });
    const back = await send(LUBEI, 'POST', `/elders/${elder.id}/status`, { status: 'ACTIVE', effectiveOn: today, reason: '误登' });
    expect(back.statusCode).toBe(409);
    expect(back.json()).toMatchObject({ code: 'REGISTRY.ELDER_STATUS_FINAL', field: 'status' });
    expect((await send(LUBEI, 'PATCH', `/elders/${elder.id}`, { name: '改名' })).json().code).toBe('REGISTRY.ELDER_DECEASED');
  });

  it('refuses a region outside the caller’s scope or above community level', async () => {
    const outside = await send(LUBEI, 'POST', '/elders', rosterRow(112, { regionCode: '130202001001' }));
    expect(outside.statusCode).toBe(422);
    expect(outside.json()).toMatchObject({ code: 'REGISTRY.REGION_NOT_FOUND', field: 'regionCode' });
    const street = await send(LUBEI, 'POST', '/elders', rosterRow(112, { regionCode: '130203001000' }));
    expect(street.json()).toMatchObject({ code: 'REGISTRY.REGION_NOT_COMMUNITY', field: 'regionCode' });
  });
});
