import { localDefault as local } from '@yiyang/service-kit';
import { z } from 'zod';

const key32 = z
  .string()
  .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded');

// Recognisable placeholders, not secrets: anyone can read them here, so they protect nothing.
const LOCAL_PII_KEY = Buffer.from('yiyang-local-dev-pii-key-32bytes').toString('base64');
const LOCAL_PII_HASH_KEY = Buffer.from('yiyang-local-dev-pii-hash-key-32').toString('base64');

export const SERVICE = {
  service: 'registry',
  defaultPort: 3001,
  title: 'Yiyang registry (颐养 档案登记)',
  description: 'Regions, elders, assessments, providers, caregivers, facilities, catalogue.',
  config: z.object({
    /** AES-256-GCM key for ID-card numbers and phones at rest. */
    REGISTRY_PII_KEY: local(key32, LOCAL_PII_KEY),
    /** HMAC-SHA256 key for exact lookup of those values; separate, so one leaked key does not give both. */
    REGISTRY_PII_HASH_KEY: local(key32, LOCAL_PII_HASH_KEY),
  }),
};
