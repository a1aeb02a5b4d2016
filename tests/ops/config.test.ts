import { parse } from 'pg-connection-string'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../src/config.ts'

describe('configuration a newcomer writes', () => {
  afterEach(() => vi.restoreAllMocks())

  it('reads sslmode=require as libpq does (encrypted), without the driver warning on every start', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const url = loadConfig({ DATABASE_URL: 'postgres://u:p%40ss@db.example:5432/hltwap?sslmode=require' }).databaseUrl!
    expect(new URL(url).searchParams.get('sslmode')).toBe('require')
    const config = parse(url)
    expect(config.ssl).toEqual(expect.objectContaining({ rejectUnauthorized: false }))
    expect(config.password).toBe('p@ss')
    expect(warn).not.toHaveBeenCalled()
    // As written, the driver would have warned.
    parse('postgres://u@db.example/hltwap?sslmode=require')
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('SECURITY WARNING'))
  })

  it('leaves verify-full and a URL without sslmode as written', () => {
    const full = 'postgres://u@db.example/hltwap?sslmode=verify-full'
    expect(loadConfig({ DATABASE_URL: full }).databaseUrl).toBe(full)
    expect(loadConfig({ DATABASE_URL: 'postgres://u@localhost/hltwap' }).databaseUrl).toBe('postgres://u@localhost/hltwap')
  })

  it('tells serve to schedule only an ETL_SCHEDULE that was given', () => {
    expect(loadConfig({}).etl).toMatchObject({ schedule: '30 0 * * *', scheduleSet: false })
    expect(loadConfig({ ETL_SCHEDULE: '0 1 * * *' }).etl).toMatchObject({ schedule: '0 1 * * *', scheduleSet: true })
  })
})
