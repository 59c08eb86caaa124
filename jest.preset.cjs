// Shared Jest settings: swc for speed (keeps decorator metadata for Nest DI), path aliases
// mirrored from tsconfig.base.json, and a reporter that records counts for the CI summary line.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace(/[/]/g, '\\/')}$`] = path.join(__dirname, target);
}

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testTimeout: 60_000,
  setupFiles: [path.join(__dirname, 'tools/jest/isolated-database.cjs')],
  reporters: ['default', path.join(__dirname, 'tools/jest/summary-reporter.cjs')],
};
