import { localDefault as local } from '@yiyang/service-kit';
import { z } from 'zod';

const url = z.string().regex(/^https?:\/\/[^/]+$/, 'must be an http(s) origin without a path, e.g. http://127.0.0.1:3001');
const regionCode = z.string().regex(/^\d{12}$/, 'must be a 12-digit region code');
const optionalNonEmpty = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional());

export const SERVICE = {
  service: 'gateway',
  defaultPort: 3000,
  title: 'Yiyang admin gateway (颐养 管理网关)',
  description: 'The one public door: accounts, roles, region scope, audit.',
  config: z.object({
    /** Signs the PUBLIC access tokens. Distinct from INTERNAL_TOKEN_SECRET so neither token is accepted in the other's place. */
    GATEWAY_JWT_SECRET: local(z.string().min(32, 'must be at least 32 characters'), 'yiyang-local-development-gateway-access-secret'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3_600).default(600),
    REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).default(14 * 24 * 3_600),
    /** A session (refresh-token family) ends this long after sign-in however often it is refreshed. */
    SESSION_MAX_AGE_SECONDS: z.coerce.number().int().min(300).default(30 * 24 * 3_600),
    LOCKOUT_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
    LOCKOUT_SECONDS: z.coerce.number().int().min(1).default(15 * 60),
    /** The first administrator, created once at first start when no user exists. */
    YIYANG_ADMIN_USERNAME: optionalNonEmpty,
    YIYANG_ADMIN_PASSWORD: optionalNonEmpty,
    YIYANG_ADMIN_REGION_CODE: local(regionCode, '130200000000'),
    REGISTRY_URL: url.default('http://127.0.0.1:3001'),
    DISPATCH_URL: url.default('http://127.0.0.1:3002'),
    BILLING_URL: url.default('http://127.0.0.1:3003'),
    MONITORING_URL: url.default('http://127.0.0.1:3004'),
    UPSTREAM_CONNECTIONS: z.coerce.number().int().min(1).max(1_024).default(64),
    /**
     * Direct-path reads (authenticated GETs) are pipelined on separate connections, up to this many
     * per connection, once more than UPSTREAM_PIPELINE_ABOVE reads are in flight to a service; 1 = never.
     */
    UPSTREAM_READ_PIPELINING: z.coerce.number().int().min(1).max(32).default(8),
    UPSTREAM_PIPELINE_ABOVE: z.coerce.number().int().min(0).default(8),
    UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
    UPSTREAM_IMPORT_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(15 * 60_000),
    /** Comma-separated origins allowed to call the API cross-origin; the console is same-origin and needs none. */
    CORS_ORIGINS: z.string().default(''),
    RATE_LIMIT_USER_PER_MINUTE: z.coerce.number().int().min(1).default(1_200),
    RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(1).default(300),
    RATE_LIMIT_LOGIN_PER_MINUTE: z.coerce.number().int().min(1).default(20),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
    IMPORT_BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).default(200 * 1_048_576),
    JSON_MAX_ARRAY_LENGTH: z.coerce.number().int().min(1).default(1_000),
    JSON_MAX_DEPTH: z.coerce.number().int().min(2).default(32),
    OPENAPI_REFRESH_MS: z.coerce.number().int().min(1_000).default(60_000),
    CONSOLE_DIR: z.string().default('dist/apps/console'),
  }),
};

export type GatewayConfig = z.infer<typeof SERVICE.config> & { INTERNAL_TOKEN_SECRET: string; MONGO_DB: string };
