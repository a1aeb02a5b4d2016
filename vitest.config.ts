import { defineConfig } from 'vitest/config'

// `#src/…` imports resolve to the TypeScript sources under the `source` condition (package.json
// `imports`); without it they resolve to the compiled dist/.
const conditions = ['source', 'node', 'development|production']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ['tests/**/*.test.ts'],
    // The CLI tests run bin/hl-twap.js, which runs dist/: rebuilt here when src/ is newer.
    globalSetup: ['tests/support/build.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files open their own databases and servers; two workers match the machine.
    maxWorkers: 2,
    // @fastify/autoload imports the app's plugin and route files itself: run through Vitest
    // (not left to Node), its `import()` of a .ts file is transformed like every other.
    server: { deps: { inline: ['@fastify/autoload'] } },
  },
})
