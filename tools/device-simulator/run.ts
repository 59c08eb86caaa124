/**
 * Device simulator: plays a realistic stream (model.ts) into a RUNNING monitoring service through
 * its vendor ingestion endpoint, the way a vendor platform would (batches, API key).
 *
 *   SWC_NODE_PROJECT=tsconfig.base.json node -r @swc-node/register tools/device-simulator/run.ts devices.json
 *
 * devices.json: `{ "apiKey": "yyv.<vendor>.<secret>", "devices": [{ "externalId", "kind", "home": {lat,lng} }] }`
 * (tools/demo-data/monitoring.ts writes one for the demo district).
 * Env: MONITORING_URL (http://127.0.0.1:3004)  SIM_SPEED (1 = real time; 60 = an hour a minute)
 *      SIM_SECONDS (run time, default: until Ctrl-C)  SIM_SEED (1)
 */
import { readFileSync } from 'node:fs';
import { SimDevice, type SimKind, type SimReading } from './model';

const BASE = (process.env['MONITORING_URL'] ?? 'http://127.0.0.1:3004').replace(/\/$/, '');
const SPEED = Number(process.env['SIM_SPEED'] ?? 1);
const SECONDS = Number(process.env['SIM_SECONDS'] ?? 0);
const SEED = Number(process.env['SIM_SEED'] ?? 1);

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: run.ts <devices.json>');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as { apiKey: string; devices: { externalId: string; kind: SimKind; home: { lat: number; lng: number } }[] };
  const start = Date.now();
  const devices = spec.devices.map((d, i) => new SimDevice(d.externalId, d.kind, d.home, SEED * 1_000_003 + i, start));
  let sent = 0;
  let rejected = 0;
  let last = Date.now();
  const stopAt = SECONDS > 0 ? start + SECONDS * 1000 : Infinity;
  while (Date.now() < stopAt) {
    const now = Date.now();
    const elapsed = ((now - last) / 1000) * SPEED;
    last = now;
    const batch: SimReading[] = devices.flatMap((d) => d.tick(now, elapsed));
    for (let i = 0; i < batch.length; i += 1000) {
      const res = await fetch(`${BASE}/telemetry`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': spec.apiKey },
        body: JSON.stringify({ readings: batch.slice(i, i + 1000) }),
      });
      const body = (await res.json()) as { accepted?: number; rejected?: unknown[]; code?: string };
      if (!res.ok) throw new Error(`ingestion answered ${res.status} ${body.code ?? ''}`);
      sent += body.accepted ?? 0;
      rejected += body.rejected?.length ?? 0;
    }
    const events = batch.filter((r) => r.kind !== 'HEARTBEAT' && r.kind !== 'VITALS' && r.kind !== 'ACTIVITY');
    for (const e of events) process.stdout.write(`[sim] ${new Date(e.at).toISOString()} ${e.kind} ${e.externalId}\n`);
    if (Math.floor((now - start) / 10_000) !== Math.floor((now - start - 1000) / 10_000)) {
      process.stdout.write(`[sim] ${Math.round((now - start) / 1000)} s: ${sent} readings accepted, ${rejected} rejected\n`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

main().catch((error) => {
  process.stderr.write(`device simulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
