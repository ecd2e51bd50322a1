// Lint: correctness rules from ESLint and typescript-eslint (syntax only, so it stays fast),
// plus the project's layering as import rules. Formatting is prettier's job (`npm run format`);
// eslint-config-prettier turns off every stylistic rule that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Packages that tie code to a framework, a database or a broker. */
const INFRASTRUCTURE = [
  { regex: '^@nestjs/', message: 'src/domain is pure: no NestJS (put the glue in a feature folder).' },
  { regex: '^typeorm($|/)', message: 'src/domain is pure: no TypeORM (repositories live in feature folders).' },
  { regex: '^(pg|pg-copy-streams)($|/)', message: 'src/domain is pure: no PostgreSQL driver.' },
  { regex: '^kafkajs($|/)', message: 'src/domain is pure: no Kafka client.' },
];

/** Folders that are not the product: the product must build and run without them. */
const NOT_PRODUCT = {
  regex: '(^|/)(bench|test|tools)/',
  message: 'src must not import from bench/, test/ or tools/: they depend on src, never the other way.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'tools/dev-kafka/build/**', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module' },
    rules: {
      // `_`-prefixed names are deliberately unused (positional parameters, destructuring rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // Nest modules are classes with decorators and no members.
      '@typescript-eslint/no-extraneous-class': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NOT_PRODUCT] }] },
  },
  {
    files: ['src/domain/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [NOT_PRODUCT, ...INFRASTRUCTURE] }] },
  },
  {
    // Specs may use shared fixtures, and `any` to build the malformed inputs they feed in.
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Plain Node scripts (ESM): Node globals.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
  },
);
