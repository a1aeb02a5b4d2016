import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'coverage/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // CommonJS configuration files of tools (dependency-cruiser reads .cjs).
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: globals.node } },
  // Plain Node scripts: the CLI's entry point, the build and the CI checks.
  { files: ['bin/**/*.js', 'scripts/**/*.mjs', '.ci/**/*.mjs'], languageOptions: { globals: globals.node } },
  // The explorer's modules run in the browser, not in Node.
  { files: ['src/web/**/*.js'], languageOptions: { globals: globals.browser } },
)
