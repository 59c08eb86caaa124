// Unit tests of the console's pure logic (roles and routes, error wording, figures, visit steps):
// no browser here — the browser tests are the `e2e` target (apps/console/e2e/run.ts).
const preset = require('../../jest.preset.cjs');

module.exports = {
  ...preset,
  displayName: 'console',
  rootDir: __dirname,
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  setupFiles: [],
  maxWorkers: 1,
};
