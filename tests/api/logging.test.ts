import { prettyFactory } from 'pino-pretty'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { PRETTY_OPTIONS } from '#src/log.ts'
import { engine } from '../support/db.ts'
import { testConfig } from '../support/api.ts'
import { createTestStore, type TestStore } from '../support/db.ts'
import { memoryLogger } from '../support/log.ts'

describe(`request logs on ${engine}`, () => {
  let store: TestStore
  beforeAll(async () => {
    store = await createTestStore()
  })
  afterAll(() => store?.destroy())

  it('writes one entry a request, which a terminal shows as one line', async () => {
    const { logger, lines } = memoryLogger()
    const app = await buildApp({ db: store.db, config: testConfig(), logger })
    await app.inject('/healthz')
    await app.inject('/nowhere')
    await app.close()
    expect(lines.map((l) => l.msg)).toEqual([expect.stringMatching(/^GET \/healthz 200 [\d.]+ ms$/), expect.stringMatching(/^GET \/nowhere 404 [\d.]+ ms$/)])
    expect(lines[0]).toMatchObject({ method: 'GET', url: '/healthz', statusCode: 200, reqId: expect.any(String) })
    const pretty = prettyFactory({ ...PRETTY_OPTIONS, colorize: false })
    const shown = pretty(lines[0]!)
    expect(shown.trimEnd().split('\n')).toHaveLength(1)
    expect(shown).toMatch(/INFO.*GET \/healthz 200 [\d.]+ ms/)
  })

  it('keeps no key sent in the query string in the log', async () => {
    const { logger, lines } = memoryLogger()
    const app = await buildApp({ db: store.db, config: testConfig({ api: { apiKeys: ['the-real-key'] } }), logger })
    const res = await app.inject('/api/v1/twaps?wallet=0x1&api_key=the-real-key&x%2Dapi%2Dkey=the-real-key&token=t0k')
    await app.close()
    expect(res.statusCode).toBe(401)
    const text = JSON.stringify(lines)
    expect(text).not.toContain('the-real-key')
    expect(text).not.toContain('t0k')
    expect(lines[0]).toMatchObject({ url: '/api/v1/twaps?wallet=0x1&api_key=***&x%2Dapi%2Dkey=***&token=***' })
  })
})
