module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'messaging',
  rootDir: __dirname,
  // The integration tests share one broker; running them one file at a time keeps a 2-core box responsive.
  maxWorkers: 1,
};
