import { z } from 'zod';

const seconds = (fallback: number) => z.coerce.number().int().min(1).max(86_400).default(fallback);

export const SERVICE = {
  service: 'dispatch',
  defaultPort: 3002,
  title: 'Yiyang dispatch (颐养 派单服务)',
  description: 'Service orders, matching, emergencies, visit verification, visiting rounds.',
  config: z.object({
    /** EVV geofence radius around the elder's home, metres. */
    DISPATCH_GEOFENCE_METERS: z.coerce.number().int().min(10).max(5_000).default(100),
    /** How long a caregiver has to accept an offer before it goes to the next candidate. */
    DISPATCH_OFFER_TIMEOUT_SECONDS: seconds(120),
    /** Emergency acknowledgement deadline per ladder level. */
    DISPATCH_EMERGENCY_ACK_SECONDS: seconds(90),
    /** Farthest a caregiver's home base may be from the elder's home to be offered an order, metres. */
    DISPATCH_MATCH_RADIUS_METERS: z.coerce.number().int().min(200).max(50_000).default(5_000),
    /** How often the deadline scheduler polls, ms. */
    DISPATCH_SCHEDULER_POLL_MS: z.coerce.number().int().min(20).max(60_000).default(1_000),
    /**
     * Region codes this deployment serves (comma-separated; empty = everything). Registry events and
     * alerts for elders, caregivers and contracts elsewhere are skipped without a write — one Kafka
     * cluster can carry several cities' deployments.
     */
    DISPATCH_REGION_SCOPE: z
      .string()
      .regex(/^(\d{12}(,\d{12})*)?$/, 'must be comma-separated 12-digit region codes')
      .default(''),
    /** Orders from service plans are generated this many days ahead. */
    DISPATCH_PLAN_HORIZON_DAYS: z.coerce.number().int().min(1).max(31).default(2),
  }),
};
export type DispatchConfig = {
  DISPATCH_GEOFENCE_METERS: number;
  DISPATCH_OFFER_TIMEOUT_SECONDS: number;
  DISPATCH_EMERGENCY_ACK_SECONDS: number;
  DISPATCH_MATCH_RADIUS_METERS: number;
  DISPATCH_SCHEDULER_POLL_MS: number;
  DISPATCH_PLAN_HORIZON_DAYS: number;
  DISPATCH_REGION_SCOPE: string;
};
