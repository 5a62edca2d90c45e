/** Jest: unit tests beside the code (in __tests__ folders), end-to-end tests in test/ against real PostgreSQL. */
const swc = JSON.parse(require('fs').readFileSync(__dirname + '/.swcrc', 'utf8'));
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/libs/**/__tests__/**/*.spec.ts', '<rootDir>/apps/**/__tests__/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: { '^@linli/(core|codes|places|registry|importer|access|sync)$': '<rootDir>/libs/$1/src' },
  setupFiles: ['<rootDir>/test/env.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  testTimeout: 30000,
};
