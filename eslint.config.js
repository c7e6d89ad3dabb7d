import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layering of docs/architecture.md ("Imports run downward only"), for the seams that matter
// most. Flat config replaces a rule's options per file instead of merging them, so each group of
// files lists every restriction it is under. Specifiers are matched as written (relative paths);
// test/unit/layering.test.ts proves each restriction fires.
const UWS = {
  name: 'uWebSockets.js',
  message: 'Only src/gateway/uws.ts imports uWebSockets.js: import what you need from there.',
};
const SERVER = {
  regex: String.raw`^(\./|(\.\./)+)gateway/`,
  message:
    'src/gateway is the uWS server; only src/start.ts starts it. Use src/realtime (state, api) or src/core/pusher (protocol).',
};
/** What no module of core, domain or engine may import: the layers above them. */
const above = (layers, why) => ({
  regex: String.raw`^(\.\./)+(${layers.join('|')})/`,
  message: `${why} must not import from ${layers.join(', ')}: move the shared part down (docs/architecture.md).`,
});
const ABOVE_DOMAIN = ['realtime', 'gateway', 'http', 'workers', 'cli'];

export default tseslint.config(
  { ignores: ['node_modules/', 'src/generated/', 'dist/', 'coverage/', '.stryker-tmp/', 'reports/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    files: ['**/*.{ts,js,mjs}'],
    rules: { 'no-restricted-imports': ['error', { paths: [UWS], patterns: [SERVER] }] },
  },
  {
    files: ['src/domain/**', 'src/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [UWS], patterns: [above(ABOVE_DOMAIN, 'Domain and engine')] },
      ],
    },
  },
  {
    // The status report names the shapes of the readers it is given, which live with the workers
    // that own the data (docs/architecture.md, departures): types only.
    files: ['src/domain/status.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [UWS],
          patterns: [
            above(['realtime', 'gateway', 'http', 'cli'], 'Domain and engine'),
            { ...above(['workers'], 'Domain and engine'), allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [UWS], patterns: [above(['domain', 'engine', ...ABOVE_DOMAIN], 'Core')] },
      ],
    },
  },
  {
    // The server itself, the composition root that starts it, and the tests and benches of it.
    files: ['src/gateway/**', 'src/start.ts', 'test/**', 'bench/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [UWS] }] },
  },
  {
    files: ['src/gateway/uws.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // Tests read JSON bodies loosely; the assertions are the type check.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
