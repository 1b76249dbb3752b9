// Type-aware lint of the TypeScript sources (run by scripts/lint.mjs, which explains the TypeScript 6 alias).
// Only the promise rules STYLE.md asks for: a promise nobody awaits is a silent failure or an unhandled rejection in a
// long-running host; a deliberate fire-and-forget says `void` (with why).
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // test/fixtures/lint holds code that must fail the lint (test/unit/lint.test.ts lints it with --no-ignore).
  globalIgnores(['dist/', '.cache/', 'test-results/', 'test/fixtures/lint/']),
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's test()/describe() return promises the runner itself awaits; a subtest (t.test) still must be awaited.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
