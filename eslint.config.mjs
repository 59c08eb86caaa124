// One flat config for the whole workspace. The module-boundary rule is what keeps the
// architecture honest: services only meet through contracts, contracts stay pure data.
import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '.infra/**', '.nx/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Layering: who may import whom.
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:platform', 'type:messaging', 'type:contracts', 'type:util'],
              // Services speak Kafka only through libs/messaging (delivery guarantees live there).
              bannedExternalImports: ['kafkajs'],
            },
            {
              sourceTag: 'type:platform',
              onlyDependOnLibsWithTags: ['type:messaging', 'type:contracts', 'type:util'],
              bannedExternalImports: ['kafkajs'],
            },
            {
              sourceTag: 'type:messaging',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:util'],
            },
            {
              // Contracts are shared by every producer and consumer: plain data and zod schemas only,
              // no transport, persistence or framework that would drag a runtime into a consumer.
              sourceTag: 'type:contracts',
              onlyDependOnLibsWithTags: ['type:contracts', 'type:util'],
              bannedExternalImports: ['mongoose', 'mongodb', 'kafkajs', '@nestjs/*', 'fastify', '@fastify/*'],
            },
            {
              sourceTag: 'type:util',
              onlyDependOnLibsWithTags: ['type:util'],
              bannedExternalImports: ['mongoose', 'mongodb', 'kafkajs', '@nestjs/*'],
            },
            {
              sourceTag: 'type:tooling',
              onlyDependOnLibsWithTags: ['type:platform', 'type:messaging', 'type:contracts', 'type:util'],
            },
            // Ownership: a service reaches only its own code and what is shared.
            { sourceTag: 'scope:registry', onlyDependOnLibsWithTags: ['scope:registry', 'scope:shared'] },
            { sourceTag: 'scope:dispatch', onlyDependOnLibsWithTags: ['scope:dispatch', 'scope:shared'] },
            { sourceTag: 'scope:billing', onlyDependOnLibsWithTags: ['scope:billing', 'scope:shared'] },
            { sourceTag: 'scope:monitoring', onlyDependOnLibsWithTags: ['scope:monitoring', 'scope:shared'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
];
