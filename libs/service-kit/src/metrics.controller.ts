import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { Public } from './auth';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { collectDefaultMetrics, Gauge, register } from 'prom-client';

let defaultsCollected = false;

export function enableDefaultMetrics(service: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  register.setDefaultLabels({ service });
  collectDefaultMetrics();
  observeLiveHeap();
}

/**
 * `nodejs_heap_live_after_full_gc_bytes`: what the heap still holds right after the last full
 * (mark-sweep-compact) collection, outside the young generation — the live set. The default
 * `nodejs_heap_size_used_bytes` is a saw-tooth between collections, so a leak hides in it for
 * minutes; this one only rises when the process keeps more (bench/telemetry's memory run reads it).
 */
function observeLiveHeap(): void {
  const live = new Gauge({ name: 'nodejs_heap_live_after_full_gc_bytes', help: 'Old-generation heap in use right after the last full garbage collection (the live set).' });
  new PerformanceObserver((list) => {
    const full = list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (!full) return;
    let bytes = 0;
    for (const space of getHeapSpaceStatistics()) if (!space.space_name.startsWith('new_')) bytes += space.space_used_size;
    live.set(bytes);
  }).observe({ entryTypes: ['gc'] });
}

@Public()
@Controller('metrics')
export class MetricsController {
  @Get()
  @ApiExcludeEndpoint()
  @Header('Content-Type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
