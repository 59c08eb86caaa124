import { spawnSync } from 'node:child_process';
import path from 'node:path';

// The architecture's fences, shown to hold: each forbidden import below is linted as if it were
// written in the named file, and must be refused by @nx/enforce-module-boundaries.

const root = path.resolve(__dirname, '../../..');

// The ESLint CLI in a child process, exactly as `nx lint` runs it (its flat config is ESM, which
// Jest's module sandbox cannot load in-process).
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const eslint = spawnSync(
    process.execPath,
    [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', file, '--format', 'json'],
    { cwd: root, input: code, encoding: 'utf8' },
  );
  if (!eslint.stdout) throw new Error(`eslint failed: ${eslint.stderr}`);
  const [result] = JSON.parse(eslint.stdout) as { messages: { ruleId: string; message: string }[] }[];
  return result.messages.filter((m) => m.ruleId === '@nx/enforce-module-boundaries').map((m) => m.message);
}

describe('module boundaries', () => {
  it.each([
    ['an app importing another app', 'apps/dispatch/src/boundary-fixture.ts', "import { AppModule } from '../../registry/src/app.module';\nexport const x = AppModule;"],
    ['contracts importing mongoose', 'libs/contracts/src/boundary-fixture.ts', "import mongoose from 'mongoose';\nexport const x = mongoose;"],
    ['contracts importing kafkajs', 'libs/contracts/src/boundary-fixture.ts', "import { Kafka } from 'kafkajs';\nexport const x = Kafka;"],
    ['contracts importing Nest', 'libs/contracts/src/boundary-fixture.ts', "import { Injectable } from '@nestjs/common';\nexport const x = Injectable;"],
    ['contracts importing the messaging runtime', 'libs/contracts/src/boundary-fixture.ts', "import { EventPublisher } from '@yiyang/messaging';\nexport const x = EventPublisher;"],
    ['a service importing kafkajs directly', 'apps/billing/src/boundary-fixture.ts', "import { Kafka } from 'kafkajs';\nexport const x = Kafka;"],
  ])('refuses %s', async (_what, file, code) => {
    expect(await boundaryErrors(file, code)).not.toEqual([]);
  });

  it('allows a service to use contracts, messaging and the service kit', async () => {
    const code = [
      "import { RegistryTopics } from '@yiyang/contracts';",
      "import { HandleEvent } from '@yiyang/messaging';",
      "import { ServiceKitModule } from '@yiyang/service-kit';",
      'export const x = [RegistryTopics, HandleEvent, ServiceKitModule];',
    ].join('\n');
    expect(await boundaryErrors('apps/dispatch/src/boundary-fixture.ts', code)).toEqual([]);
  });
});
