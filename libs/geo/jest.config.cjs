module.exports = { ...require('../../jest.preset.cjs'), displayName: 'geo', rootDir: __dirname };
