import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { OpenAPIObject } from '@nestjs/swagger';
import { UPSTREAMS, type Upstream } from '../proxy/routing';
import { Upstreams } from '../proxy/upstreams';
import { mergeDocuments } from './merge';

/**
 * Keeps the merged public OpenAPI document: fetches each service's /docs/openapi.json at start and
 * every OPENAPI_REFRESH_MS (services deploy independently), keeping the last good copy of each.
 */
@Injectable()
export class OpenApiService implements OnApplicationShutdown {
  private readonly log = new Logger('OpenApi');
  private gatewayDoc: OpenAPIObject | undefined;
  private readonly docs: Partial<Record<Upstream, OpenAPIObject>> = {};
  private merged: OpenAPIObject | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshMs: number;

  constructor(
    config: ConfigService,
    private readonly upstreams: Upstreams,
  ) {
    this.refreshMs = Number(config.get('OPENAPI_REFRESH_MS'));
  }

  start(gatewayDoc: OpenAPIObject): void {
    this.gatewayDoc = gatewayDoc;
    this.merged = mergeDocuments(gatewayDoc, this.docs);
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  document(): OpenAPIObject {
    if (!this.merged) throw new Error('OpenAPI document requested before start');
    return this.merged;
  }

  async refresh(): Promise<void> {
    await Promise.all(
      UPSTREAMS.map(async (service) => {
        try {
          const res = await this.upstreams.request(service, { method: 'GET', path: '/docs/openapi.json', headersTimeout: 5_000, bodyTimeout: 5_000 }, true);
          if (res.statusCode !== 200) {
            await res.body.dump();
            return;
          }
          const doc = (await res.body.json()) as OpenAPIObject;
          if (doc && typeof doc === 'object' && doc.paths) this.docs[service] = doc;
        } catch (error) {
          this.log.debug(`${service} OpenAPI document not fetched: ${(error as Error).message}`);
        }
      }),
    );
    if (this.gatewayDoc) this.merged = mergeDocuments(this.gatewayDoc, this.docs);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
