import { z } from 'zod';

/**
 * A default that exists only outside production: in production a forgotten variable must stop
 * the boot, not silently point at localhost or use a well-known development key.
 */
export function localDefault<T extends z.ZodType>(schema: T, fallback: z.input<T>) {
  return process.env['NODE_ENV'] === 'production' ? schema : schema.default(fallback as never);
}

/** Environment every service reads. */
export function baseConfigSchema(service: string, defaultPort: number) {
  const local = localDefault;
  return z.object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    SERVICE_NAME: z.string().default(service),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(1).max(65_535).default(defaultPort),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    KAFKA_BROKERS: local(z.string().min(1), '127.0.0.1:9092'),
    MONGO_URL: local(z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'), 'mongodb://127.0.0.1:27017/'),
    MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]+$/).default(`yiyang_${service}`),
    // A second copy of the platform on the same broker (the browser tests beside a running demo)
    // must not join the first one's consumer groups, or the two would split the partitions.
    KAFKA_GROUP_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]+$/).optional(),
    // Shared by the gateway (signs) and the services (verify). The local default exists so a fresh
    // clone runs; production must set its own.
    INTERNAL_TOKEN_SECRET: local(z.string().min(32, 'must be at least 32 characters'), 'yiyang-local-development-internal-token-secret'),
  });
}

export type BaseConfig = z.infer<ReturnType<typeof baseConfigSchema>>;

/**
 * Validates the environment at boot. The error names every bad or missing variable at once,
 * so an operator fixes the deployment in one go.
 */
export function validateConfig<S extends z.ZodType>(schema: S, env: Record<string, unknown>): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const name = i.path.join('.');
    return env[name] === undefined ? `${name} is missing` : `${name} is invalid: ${i.message}`;
  });
  throw new Error(`Configuration invalid — ${problems.join('; ')}`);
}
