/**
 * Regenerates docs/api/route-matrix.md from the enforced table:
 *   node -r @swc-node/register apps/gateway/src/proxy/render-matrix.ts
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderRouteMatrix } from './route-matrix';

const intro = `# Route-by-role matrix (public API \`/api/v1\`)

Function-level authorisation, **enforced by the gateway before a request is forwarded**
(\`apps/gateway/src/proxy/route-matrix.ts\`; this table is generated from it and a unit test keeps
them identical — regenerate with \`node -r @swc-node/register apps/gateway/src/proxy/render-matrix.ts\`).

- The first matching row wins; \`:x\` is one path segment, \`**\` any rest. A request that matches no
  row answers **404 GATEWAY.ROUTE_NOT_FOUND**; a row without the caller's role answers
  **403 AUTH.FORBIDDEN** — in both cases before any service is asked, so the caller learns nothing.
- **Object-level** scope (which region subtree, provider, caregiver or elders) is enforced again
  inside every service from the principal in the internal token: an admin of another district, an
  operator of another provider or the guardian of another family gets 403/404 from the service.
- **Property level**: \`?reveal=true\` (unmasked ID numbers and phones) is refused with
  **403 AUTH.REVEAL_FORBIDDEN** for every role except civil-affairs admin and assessor; each
  unmasked read is written to the audit log before the data is returned.
- Rows for dispatch, billing and monitoring are segment-level fences (those services were being
  built at the same time); each service's own \`@AllowRoles\` is finer.
- Roles: admin = civil_affairs_admin (region subtree), operator = provider_operator (one provider),
  caregiver (self), elder (self), guardian (linked elders), assessor (region), auditor (read-only, region).

`;

const target = path.join(__dirname, '../../../../docs/api/route-matrix.md');
writeFileSync(target, `${intro}${renderRouteMatrix()}\n`);
process.stdout.write(`wrote ${target}\n`);
