import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'src/protocol/generated/**',
      'src/services/*/generated/**',
      'coverage/**',
      '.wharf/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // Layer boundaries: dependencies point one way (cli → server → protocol | services | config → store | kernel;
  // kernel imports nothing; delivery/ may call services and the store, never the server).
  ...boundaries({
    'src/kernel/**': ['../**'],
    'src/protocol/**': ['**/services/**', '**/server/**', '**/store/**', '**/cli/**'],
    'src/services/**': ['**/protocol/**', '**/server/**', '**/cli/**'],
    'src/store/**': ['**/services/**', '**/protocol/**', '**/server/**', '**/cli/**'],
    'src/delivery/**': ['**/server/**', '**/protocol/**', '**/cli/**'],
    'src/config/**': ['**/services/**', '**/protocol/**', '**/server/**', '**/store/**', '**/cli/**'],
  }),
  // Type-aware rules for the sources: a promise nobody awaits is a lost error.
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
    },
  },
);

/** One no-restricted-imports block per layer: the import paths its files may not use. */
function boundaries(layers) {
  return Object.entries(layers).map(([files, group]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group, message: `${files.split('/')[1]}/ may not import this layer (see the boundary rules)` }],
        },
      ],
    },
  }));
}
