// The console is browser code: the workspace rules plus browser globals. `npx eslint apps/console`
// from the root uses the root config (which already covers .tsx); nx lint picks this file.
import globals from 'globals';
import root from '../../eslint.config.mjs';

export default [
  ...root,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
];
