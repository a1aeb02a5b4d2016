import { availableParallelism } from 'node:os'
import { parse } from 'pg-connection-string'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defaultExportSlots, loadConfig } from '#src/config.ts'

describe('configuration a newcomer writes', () => {
  afterEach(() => vi.restoreAllMocks())

  it('keeps sslmode=require encrypted and the certificate checked, as the driver does, without its warning on every start', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const url = loadConfig({ DATABASE_URL: 'postgres://u:p%40ss@db.example:5432/hltwap?sslmode=require' }).databaseUrl!
    expect(new URL(url).searchParams.get('sslmode')).toBe('verify-full')
    const config = parse(url)
    expect(config.ssl).toBeTruthy()
    expect(config.ssl).not.toEqual(expect.objectContaining({ rejectUnauthorized: false }))
    expect(config.password).toBe('p@ss')
    expect(warn).not.toHaveBeenCalled()
    // As written, the driver would have warned.
    parse('postgres://u@db.example/hltwap?sslmode=require')
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('SECURITY WARNING'))
  })

  it('leaves other sslmodes and a URL without sslmode as written', () => {
    for (const url of ['postgres://u@db.example/hltwap?sslmode=verify-full', 'postgres://u@db.example/hltwap?uselibpqcompat=true&sslmode=require']) {
      expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url)
    }
    expect(loadConfig({ DATABASE_URL: 'postgres://u@localhost/hltwap' }).databaseUrl).toBe('postgres://u@localhost/hltwap')
  })

  it('takes DATABASE_READ_URL only beside DATABASE_URL, as a replica of it', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@primary/hltwap', DATABASE_READ_URL: 'postgres://u@replica/hltwap?sslmode=require' }))
      .toMatchObject({ databaseUrl: 'postgres://u@primary/hltwap', databaseReadUrl: 'postgres://u@replica/hltwap?sslmode=verify-full' })
    expect(loadConfig({ DATABASE_URL: 'postgres://u@primary/hltwap' }).databaseReadUrl).toBeUndefined()
    expect(() => loadConfig({ DATABASE_READ_URL: 'postgres://u@replica/hltwap' })).toThrow(/^DATABASE_READ_URL needs DATABASE_URL/)
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@primary/hltwap', DATABASE_READ_URL: 'mysql://replica' })).toThrow(/^DATABASE_READ_URL must match pattern/)
  })

  it('tells serve to schedule only an ETL_SCHEDULE that was given', () => {
    expect(loadConfig({}).etl).toMatchObject({ schedule: '30 0 * * *', scheduleSet: false })
    expect(loadConfig({ ETL_SCHEDULE: '0 1 * * *' }).etl).toMatchObject({ schedule: '0 1 * * *', scheduleSet: true })
  })

  it('bounds exports at 1 on a machine of 2 cores or fewer and at 2 above, unless EXPORT_MAX_CONCURRENT says otherwise', () => {
    expect(loadConfig({}).api.exportMaxConcurrent).toBe(availableParallelism() <= 2 ? 1 : 2)
    expect(defaultExportSlots()).toBe(loadConfig({}).api.exportMaxConcurrent)
    expect(loadConfig({ EXPORT_MAX_CONCURRENT: '7' }).api.exportMaxConcurrent).toBe(7)
    expect(() => loadConfig({ EXPORT_MAX_CONCURRENT: '0' })).toThrow(/EXPORT_MAX_CONCURRENT/)
  })
})
