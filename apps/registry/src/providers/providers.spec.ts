import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RegistryTopics } from '@yiyang/contracts';
import { collect, testKafka, uniqueSuffix, waitFor, type CollectedRecord } from '@yiyang/messaging/testing';
import type { Principal } from '@yiyang/service-kit';
import { asPrincipal, bootTestApp } from '@yiyang/service-kit/testing';
import { AppModule } from '../app.module';
import { SERVICE } from '../service';
import { todayInChina } from './inputs';

/**
 * The provider network end to end: provider → contract → caregiver → facility → price, each announced
 * on its topic. Regions get random codes under a made-up province so runs never meet old data.
 */
describe('providers, contracts, caregivers, facilities and prices (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  let sink: { records: CollectedRecord[]; stop(): Promise<void> };
  const two = (max: number) => String(1 + Math.floor(Math.random() * max)).padStart(2, '0');
  const cityCode = `${70 + Math.floor(Math.random() * 29)}${two(99)}00000000`;
  const county = `${cityCode.slice(0, 4)}${two(99)}000000`;
  const street = `${county.slice(0, 6)}001000`;
  const community = `${street.slice(0, 9)}001`;
  const otherCommunity = `${street.slice(0, 9)}002`;
  const admin: Principal = { userId: 'city-admin', role: 'civil_affairs_admin', regionCode: cityCode };

  const call = (principal: Principal, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object, correlationId = uniqueSuffix()) =>
    app.inject({ method, url, headers: { ...asPrincipal(principal), 'x-correlation-id': correlationId }, payload });
  const announced = (topic: string, correlationId: string) =>
    waitFor(() => sink.records.find((r) => r.topic === topic && r.correlationId === correlationId), `an event on ${topic}`);
  const providerBody = (overrides: object = {}) => ({
    name: '乐龄居家养老服务中心',
    type: 'SOCIAL_ORGANISATION',
    licenceNumber: `52130203${uniqueSuffix().toUpperCase()}`,
    contactPhone: '0315-2345678',
    serviceAreas: [street],
    offeredItems: ['MEAL_DELIVERY', 'HOME_CLEANING'],
    ...overrides,
  });
  const station = (overrides: object = {}) => ({
    kind: 'DAY_CARE_STATION',
    name: '文北社区日间照料站',
    regionCode: community,
    address: '文北里 12 号',
    location: { lat: 39.641, lng: 118.171 },
    capacity: 40,
    beds: { total: 12, nursing: 8, occupied: 5 },
    openingHours: [{ day: 1, from: '08:00', to: '17:30' }],
    ...overrides,
  });
  const worker = (providerId: string, overrides: object = {}) => ({
    providerId,
    kind: 'CAREGIVER',
    name: '王秀兰',
    gender: 'FEMALE',
    regionCode: community,
    skills: ['MEAL_DELIVERY'],
    certifications: [{ name: '养老护理员（四级）', number: 'YL-2024-0042', expiresOn: '2028-06-30' }],
    homeBase: { lat: 39.642, lng: 118.172 },
    weeklyAvailability: [{ day: 2, from: '08:00', to: '12:00' }],
    ...overrides,
  });

  beforeAll(async () => {
    app = await bootTestApp(AppModule, SERVICE);
    sink = await collect(testKafka(), [RegistryTopics.providers.name, RegistryTopics.caregivers.name, RegistryTopics.facilities.name, RegistryTopics.catalogue.name]);
    for (const [code, name] of [
      [county, '测试区'],
      [street, '乔屯街道'],
      [community, '文北社区'],
      [otherCommunity, '文南社区'],
    ]) {
      expect((await call(admin, 'PUT', `/regions/${code}`, { name, centre: { lat: 39.64, lng: 118.17 } })).statusCode).toBe(200);
    }
    expect((await call(admin, 'POST', '/catalogue/items/seed')).statusCode).toBe(201);
  });
  afterAll(async () => {
    await sink?.stop();
    await app?.close();
  });

  it('registers a provider, its contract, a caregiver, a station and a price, announcing each', async () => {
    const ids = { provider: `p-${uniqueSuffix()}`, contract: `c-${uniqueSuffix()}`, worker: `w-${uniqueSuffix()}`, facility: `f-${uniqueSuffix()}`, price: `m-${uniqueSuffix()}` };

    const created = await call(admin, 'POST', '/providers', providerBody(), ids.provider);
    expect(created.statusCode).toBe(201);
    const provider = created.json();
    expect(provider).toMatchObject({ serviceAreas: [street], offeredItems: ['MEAL_DELIVERY', 'HOME_CLEANING'], active: true, version: 1, typeLabel: { zh: '社会组织' } });

    const facility = await call(admin, 'POST', '/facilities', station({ providerId: provider.providerId }), ids.facility);
    expect(facility.statusCode).toBe(201);
    expect(facility.json()).toMatchObject({ regionPath: expect.arrayContaining([county, street, community]), locationCell: expect.any(String), open: true });

    const contract = await call(
      admin,
      'POST',
      `/providers/${provider.providerId}/contracts`,
      { regionCode: community, facilityId: facility.json().facilityId, validFrom: '2026-01-01', validTo: '2026-12-31' },
      ids.contract,
    );
    expect(contract.statusCode).toBe(201);

    const operator: Principal = { userId: 'op', role: 'provider_operator', providerId: provider.providerId };
    const caregiver = await call(operator, 'POST', '/caregivers', worker(provider.providerId), ids.worker);
    expect(caregiver.statusCode).toBe(201);
    expect(caregiver.json()).toMatchObject({ providerId: provider.providerId, skills: ['MEAL_DELIVERY'], homeBaseCell: expect.any(String), kindLabel: { zh: '护理员' } });

    const price = await call(operator, 'PUT', `/catalogue/prices/${provider.providerId}/MEAL_DELIVERY`, { priceFen: 1500, effectiveFrom: todayInChina() }, ids.price);
    expect(price.statusCode).toBe(200);
    expect(price.json()).toMatchObject({ current: { priceFen: 1500 }, version: 1 });

    const events = {
      provider: JSON.parse((await announced(RegistryTopics.providers.name, ids.provider)).value),
      contract: await announced(RegistryTopics.providers.name, ids.contract),
      worker: JSON.parse((await announced(RegistryTopics.caregivers.name, ids.worker)).value),
      facility: JSON.parse((await announced(RegistryTopics.facilities.name, ids.facility)).value),
      price: await announced(RegistryTopics.catalogue.name, ids.price),
    };
    expect(events.provider.payload.provider).toMatchObject({ providerId: provider.providerId, version: 1 });
    expect(events.contract.key).toBe(provider.providerId);
    expect(JSON.parse(events.contract.value).payload.contract).toMatchObject({ regionCode: community, validTo: '2026-12-31', version: 1 });
    expect(events.worker.payload.caregiver).toMatchObject({ caregiverId: caregiver.json().caregiverId, skills: ['MEAL_DELIVERY'] });
    expect(events.facility.payload.facility).toMatchObject({ beds: { total: 12, nursing: 8, occupied: 5 } });
    expect(events.price.key).toBe('MEAL_DELIVERY');
    expect(JSON.parse(events.price.value).payload.price).toMatchObject({ providerId: provider.providerId, priceFen: 1500 });

    // The operator keeps occupancy current for its own station, and sees its own staff listed.
    const occupancy = await call(operator, 'PATCH', `/facilities/${facility.json().facilityId}/beds`, { occupied: 11 });
    expect(occupancy.json()).toMatchObject({ beds: { total: 12, nursing: 8, occupied: 11 }, version: 2 });
    const staff = await call(operator, 'GET', '/caregivers?skill=MEAL_DELIVERY');
    expect(staff.json()).toMatchObject({ total: 1, page: 1, pageSize: 20 });
    const contracts = await call(admin, 'GET', `/contracts?regionCode=${community}&activeOn=2026-06-01`);
    expect(contracts.json().items.map((c: { providerId: string }) => c.providerId)).toEqual([provider.providerId]);
  });

  it('refuses a contract overlapping another for the same provider and region', async () => {
    const provider = (await call(admin, 'POST', '/providers', providerBody())).json();
    const url = `/providers/${provider.providerId}/contracts`;
    expect((await call(admin, 'POST', url, { regionCode: community, validFrom: '2025-01-01', validTo: '2025-12-31' })).statusCode).toBe(201);
    const clash = await call(admin, 'POST', url, { regionCode: community, validFrom: '2025-12-31' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toMatchObject({ code: 'REGISTRY.CONTRACT_OVERLAP', messageZh: expect.any(String) });
    // The day after is free, as is the same period in another community.
    expect((await call(admin, 'POST', url, { regionCode: community, validFrom: '2026-01-01' })).statusCode).toBe(201);
    expect((await call(admin, 'POST', url, { regionCode: otherCommunity, validFrom: '2025-06-01', validTo: '2025-09-30' })).statusCode).toBe(201);
    const backwards = await call(admin, 'POST', url, { regionCode: otherCommunity, validFrom: '2027-02-01', validTo: '2027-01-01' });
    expect(backwards.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'validTo' });
  });

  it('refuses a caregiver skill the provider does not offer, naming skills.0', async () => {
    const provider = (await call(admin, 'POST', '/providers', providerBody())).json();
    const res = await call(admin, 'POST', '/caregivers', worker(provider.providerId, { skills: ['BATHING_AT_HOME', 'MEAL_DELIVERY'] }));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'REGISTRY.SKILL_NOT_OFFERED', field: 'skills.0' });
    const listed = await call(admin, 'GET', `/caregivers?providerId=${provider.providerId}`);
    expect(listed.json().total).toBe(0);
  });

  it('keeps one provider’s operator away from another provider’s staff, stations and prices', async () => {
    const mine = (await call(admin, 'POST', '/providers', providerBody())).json();
    const theirs = (await call(admin, 'POST', '/providers', providerBody())).json();
    const theirWorker = (await call(admin, 'POST', '/caregivers', worker(theirs.providerId))).json();
    const theirStation = (await call(admin, 'POST', '/facilities', station({ providerId: theirs.providerId }))).json();
    const operator: Principal = { userId: 'op-mine', role: 'provider_operator', providerId: mine.providerId };

    expect((await call(operator, 'GET', `/caregivers/${theirWorker.caregiverId}`)).statusCode).toBe(404);
    expect((await call(operator, 'PUT', `/caregivers/${theirWorker.caregiverId}`, worker(mine.providerId))).statusCode).toBe(404);
    const planted = await call(operator, 'POST', '/caregivers', worker(theirs.providerId));
    expect(planted.statusCode).toBe(403);
    expect(planted.json()).toMatchObject({ field: 'providerId' });
    expect((await call(operator, 'PATCH', `/facilities/${theirStation.facilityId}/beds`, { occupied: 1 })).statusCode).toBe(404);
    expect((await call(operator, 'PUT', `/catalogue/prices/${theirs.providerId}/MEAL_DELIVERY`, { priceFen: 1, effectiveFrom: todayInChina() })).statusCode).toBe(404);
    expect((await call(operator, 'GET', `/providers/${theirs.providerId}`)).statusCode).toBe(404);
    expect((await call(operator, 'POST', '/providers', providerBody())).statusCode).toBe(403);

    // A caregiver reads their own record and nobody else's.
    const myWorker = (await call(operator, 'POST', '/caregivers', worker(mine.providerId))).json();
    const self: Principal = { userId: 'cg', role: 'caregiver', caregiverId: theirWorker.caregiverId };
    expect((await call(self, 'GET', `/caregivers/${theirWorker.caregiverId}`)).statusCode).toBe(200);
    expect((await call(self, 'GET', `/caregivers/${myWorker.caregiverId}`)).statusCode).toBe(404);
  });

  it('refuses more nursing beds than beds, a duplicate licence and unknown references, writing nothing', async () => {
    const bad = await call(admin, 'POST', '/facilities', station({ name: '护理床位过多', beds: { total: 10, nursing: 11, occupied: 0 } }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'beds.nursing', messageZh: expect.any(String) });
    const listed = await call(admin, 'GET', `/facilities?regionCode=${community}`);
    expect(listed.json().items.some((f: { name: string }) => f.name === '护理床位过多')).toBe(false);

    const body = providerBody();
    expect((await call(admin, 'POST', '/providers', body)).statusCode).toBe(201);
    expect((await call(admin, 'POST', '/providers', { ...body, name: '另一家' })).json()).toMatchObject({ code: 'REGISTRY.PROVIDER_LICENCE_TAKEN', field: 'licenceNumber' });
    const unknownItem = await call(admin, 'POST', '/providers', providerBody({ offeredItems: ['MEAL_DELIVERY', 'TELEPORTATION'] }));
    expect(unknownItem.json()).toMatchObject({ code: 'REGISTRY.CATALOGUE_ITEM_UNKNOWN', field: 'offeredItems.1' });
    expect(unknownItem.statusCode).toBe(422);
    const unknownArea = await call(admin, 'POST', '/providers', providerBody({ serviceAreas: [street, `${street.slice(0, 9)}999`] }));
    expect(unknownArea.json()).toMatchObject({ code: 'REGISTRY.REGION_NOT_FOUND', field: 'serviceAreas.1' });
  });
});
