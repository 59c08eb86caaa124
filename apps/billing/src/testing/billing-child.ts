// The billing service in a process of its own, for the exactly-once test to SIGKILL in the middle
// of a batch: the same module, consumer groups and database as the test file that spawns it
// (MONGO_DB and the group prefix come from the inherited environment). Says READY once consuming.
import 'reflect-metadata';
import { bootTestApp } from '@yiyang/service-kit/testing';
import { SERVICE } from '../service';
import { testAppModule } from './support';

bootTestApp(testAppModule(), SERVICE).then(
  () => process.stdout.write('READY\n'),
  (error) => {
    process.stderr.write(`billing child failed to boot: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
