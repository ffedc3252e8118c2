// Lint: typescript-eslint's recommended rules, no `any`, no wall-clock time in nodes, and the layer boundaries
// (docs/ARCHITECTURE.md): msgs/ → runtime/ → lib/ → nodes/ → app/, cli/. Each folder's rule lists what it may not
// import; a later config object replaces a rule's options, so each folder gets its whole list in one place.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** An import whose path enters one of these top-level folders (relative from anywhere in the repository). */
const into = (folders, message) => ({ regex: `^(\\.\\./)+(${folders.join('|')})(/|$)`, message });

const NOT_UPWARD = into(['nodes', 'app', 'cli', 'bench'], 'libraries and the core never import nodes, the registry or the application (docs/ARCHITECTURE.md)');
const boundaries = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'msgs/generated/**', 'bench/results/**', 'models/**/*.js', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // TypeScript's definite-assignment analysis already covers this; it flags initial values that try/finally code needs.
      'no-useless-assignment': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  // The two bin/ launchers are plain Node scripts (TypeScript files get their globals from the types).
  { files: ['**/*.js'], languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } } },
  // Layer boundaries.
  { files: ['msgs/**/*.ts'], rules: boundaries(NOT_UPWARD, into(['runtime', 'lib', 'sim'], 'msgs/ is the bottom layer: types and the topic table only')) },
  { files: ['runtime/**/*.ts'], ignores: ['**/*.test.ts'], rules: boundaries(NOT_UPWARD, into(['lib', 'sim'], 'runtime/ is the small core: domain code lives in lib/')) },
  { files: ['lib/**/*.ts', 'sim/**/*.ts'], ignores: ['**/*.test.ts'], rules: boundaries(NOT_UPWARD) },
  {
    files: ['nodes/*/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: boundaries(
      into(['app', 'cli', 'bench'], 'nodes never import the application'),
      // From nodes/<name>/x.ts, `../<other>/…` is another node's folder and `../index.js` the registry.
      { regex: '^\\.\\./(?!\\.)', message: 'a node never imports another node folder or the registry: move shared code to lib/' },
    ),
  },
  // Nodes read time from the runtime clock (ctx.clock), so sim time, bag replay and tests stay deterministic.
  {
    files: ['nodes/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'use ctx.clock (sim time, bag time) instead of the wall clock' },
        { object: 'performance', property: 'now', message: 'use ctx.clock or ctx.compute (measured work) instead of the wall clock' },
      ],
    },
  },
);
