// Lint rules that guard determinism: the simulated kernel may only see simulated time and the
// run's seeded PRNG, and may not depend on the iteration order of anything unordered.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const nondeterminism = {
  'no-restricted-properties': [
    'error',
    { object: 'Math', property: 'random', message: "Use the run's seeded PRNG (engine/prng.ts)." },
    { object: 'Date', property: 'now', message: 'Use simulated time, never the wall clock.' },
    { object: 'performance', property: 'now', message: 'Use simulated time, never the wall clock.' },
    { object: 'process', property: 'hrtime', message: 'Use simulated time, never the wall clock.' },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "NewExpression[callee.name='Date']", message: 'Use simulated time, never the wall clock.' },
    { selector: "CallExpression[callee.name='Date']", message: 'Use simulated time, never the wall clock.' },
    { selector: 'ForInStatement', message: 'for..in iterates in an order that is easy to get wrong; use an array or Object.keys(...).sort().' },
    { selector: "NewExpression[callee.name='WeakMap']", message: 'WeakMap/WeakSet cannot be iterated deterministically; use Map with explicit keys.' },
  ],
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.stryker-tmp/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['engine/**/*.ts', 'events/**/*.ts', 'projections/**/*.ts'],
    rules: nondeterminism,
  },
)
