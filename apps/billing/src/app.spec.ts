import 'reflect-metadata';
import { itBootsReady } from '@yiyang/service-kit/testing';
import { SERVICE } from './service';
import { testAppModule } from './testing/support';

// Consumer groups of its own: a test instance must never join the groups of a running billing service.
itBootsReady(testAppModule(), SERVICE);
