import { defineTopic } from '../topic';

/** Topics the registry service produces. Keyed by the aggregate id so one entity's history stays in order. */
export const RegistryTopics = {
  regions: defineTopic({ name: 'yiyang.registry.regions.v1', partitions: 3, key: 'regionCode' }),
  elders: defineTopic({ name: 'yiyang.registry.elders.v1', partitions: 12, key: 'elderId' }),
  providers: defineTopic({ name: 'yiyang.registry.providers.v1', partitions: 3, key: 'providerId' }),
  caregivers: defineTopic({ name: 'yiyang.registry.caregivers.v1', partitions: 6, key: 'caregiverId' }),
  facilities: defineTopic({ name: 'yiyang.registry.facilities.v1', partitions: 3, key: 'facilityId' }),
  catalogue: defineTopic({ name: 'yiyang.registry.catalogue.v1', partitions: 1, key: 'itemCode' }),
} as const;
