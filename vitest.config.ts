import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files open their own databases and servers; two workers match the machine.
    maxWorkers: 2,
  },
})
