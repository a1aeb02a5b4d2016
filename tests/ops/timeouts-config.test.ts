import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '#src/config.ts'

describe('the database and health timeouts in the configuration', () => {
  it('default to 5 s for statements and connections and 2 s for /healthz', () => {
    expect(loadConfig({})).toMatchObject({ database: { statementTimeoutMs: 5000, connectTimeoutMs: 5000 }, health: { timeoutMs: 2000 } })
  })

  it('take whole milliseconds from the environment', () => {
    const config = loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '1500', DATABASE_CONNECT_TIMEOUT_MS: '250', HEALTH_TIMEOUT_MS: '800' })
    expect(config).toMatchObject({ database: { statementTimeoutMs: 1500, connectTimeoutMs: 250 }, health: { timeoutMs: 800 } })
  })

  it('refuses a value that is not a whole number of milliseconds, or too small, naming the variable', () => {
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '5s' })).toThrow(new ConfigError('DATABASE_STATEMENT_TIMEOUT_MS must be integer (got "5s")'))
    expect(() => loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: '0' })).toThrow(/^DATABASE_CONNECT_TIMEOUT_MS must be >= 100 \(got "0"\)$/)
    expect(() => loadConfig({ HEALTH_TIMEOUT_MS: '-1' })).toThrow(/^HEALTH_TIMEOUT_MS must be >= 100/)
  })
})
