// Runs before each test file, before it imports any module: every test file's services get a
// database of their own. (ConfigModule validates the environment when an app module is first
// imported, so setting MONGO_DB later — e.g. inside a test — would be too late.)
const { randomBytes } = require('node:crypto');

process.env.MONGO_DB = `test_${randomBytes(5).toString('hex')}`;
