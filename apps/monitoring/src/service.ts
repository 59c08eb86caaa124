import { z } from 'zod';

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * What one process of the service runs (same code, same image; docs/adr/0009-monitoring.md):
 * - `all` (default): everything — one process is a whole monitoring service.
 * - `ingest`: only `POST /telemetry` (vendor keys, the device directory, the telemetry producer);
 *   no consumer group, no alert or figures state. Scaled with the vendors' traffic.
 * - `engine`: everything except `POST /telemetry` — the rule engine and alert lifecycle, the
 *   figures, the device/alert/dashboard API. Scaled with the telemetry topic's partitions.
 */
export const MonitoringRoleSchema = z.enum(['all', 'ingest', 'engine']);
export type MonitoringRole = z.infer<typeof MonitoringRoleSchema>;

export const SERVICE = {
  service: 'monitoring',
  defaultPort: 3004,
  title: 'Yiyang monitoring (颐养 安全监测)',
  description: 'Devices, telemetry ingestion, alert rules and lifecycle, supervision figures.',
  config: z.object({
    MONITORING_ROLE: MonitoringRoleSchema.default('all'),
    /** Seconds to acknowledge an alert, by severity, before it escalates one step. */
    ALERT_ACK_SECONDS_CRITICAL: seconds(120),
    ALERT_ACK_SECONDS_HIGH: seconds(600),
    ALERT_ACK_SECONDS_MEDIUM: seconds(1_800),
    ALERT_ACK_SECONDS_LOW: seconds(14_400),
    /** How often the escalation poller looks for passed deadlines. */
    ESCALATION_POLL_MS: z.coerce.number().int().min(50).default(5_000),
    /** How often time-based rules (device silent, inactivity) are evaluated. */
    RULE_TICK_MS: z.coerce.number().int().min(50).default(10_000),
    /** How often the rule engine snapshots its monotonic facts (one document per telemetry partition). */
    RULE_CHECKPOINT_MS: z.coerce.number().int().min(20).default(5_000),
    /** After a start, time-based rules wait this long so the consumer catches up with readings sent meanwhile. */
    SILENCE_BOOT_GRACE_MS: z.coerce.number().int().min(0).default(120_000),
    /** How often replicas pick up device and elder changes made elsewhere. */
    DIRECTORY_REFRESH_MS: z.coerce.number().int().min(100).default(15_000),
    /** A reading measured more than this far in the future (clock skew) is rejected at ingestion. */
    TELEMETRY_MAX_FUTURE_SECONDS: seconds(300),
    /** Readings older than this are rejected at ingestion (stale backlog from a vendor). */
    TELEMETRY_MAX_AGE_SECONDS: seconds(7 * 24 * 3600),
  }),
};

export type MonitoringConfig = z.infer<(typeof SERVICE)['config']>;
