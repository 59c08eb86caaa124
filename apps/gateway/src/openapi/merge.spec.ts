import type { OpenAPIObject } from '@nestjs/swagger';
import { mergeDocuments } from './merge';

const doc = (paths: Record<string, unknown>, schemas: Record<string, unknown> = {}): OpenAPIObject =>
  ({ openapi: '3.0.0', info: { title: 't', version: '1' }, paths, components: { schemas } }) as OpenAPIObject;

describe('merged OpenAPI document', () => {
  const gateway = doc({ '/api/v1/auth/login': { post: { operationId: 'gateway_login', responses: { 200: { description: 'ok' } } } }, '/health': { get: { responses: {} } } });
  const registry = doc(
    {
      '/elders/{id}': { get: { operationId: 'EldersController_get', responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Elder' } } } } } }, delete: { responses: {} } },
      '/audit': { get: { responses: {} } },
      '/health': { get: { responses: {} } },
      '/docs/openapi.json': { get: { responses: {} } },
    },
    { Elder: { type: 'object', properties: { id: { type: 'string' } } } },
  );

  it('puts every service under /api/v1, drops what is not public, and namespaces schemas', () => {
    const merged = mergeDocuments(gateway, { registry });
    expect(Object.keys(merged.paths).sort()).toEqual(['/api/v1/auth/login', '/api/v1/elders/{id}', '/api/v1/registry-audit']);
    const get = merged.paths['/api/v1/elders/{id}'].get as unknown as Record<string, unknown>;
    expect(get['operationId']).toBe('registry_EldersController_get');
    expect(JSON.stringify(get)).toContain('#/components/schemas/registry.Elder');
    expect(merged.components?.schemas?.['registry.Elder']).toBeDefined();
    // DELETE /elders/{id} is not in the route matrix: not routed, so not documented
    expect(merged.paths['/api/v1/elders/{id}'].delete).toBeUndefined();
  });

  it('documents bearer security, allowed roles and the shared error responses', () => {
    const merged = mergeDocuments(gateway, { registry });
    const get = merged.paths['/api/v1/elders/{id}'].get as unknown as Record<string, unknown>;
    expect(get['security']).toEqual([{ bearer: [] }]);
    expect(get['x-yiyang-roles']).toContain('guardian');
    expect(Object.keys(get['responses'] as object)).toEqual(expect.arrayContaining(['200', '401', '403', '404', '429', '503']));
    expect((merged.paths['/api/v1/auth/login'].post as unknown as Record<string, unknown>)['security']).toEqual([]);
  });

  it('lists the services whose document could not be fetched', () => {
    expect((mergeDocuments(gateway, { registry }) as unknown as Record<string, unknown>)['x-yiyang-unavailable']).toEqual(['dispatch', 'billing', 'monitoring']);
  });
});
