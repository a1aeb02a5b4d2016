import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { createTestApi, type TestApi } from '../support/api.ts'

const API_DIR = fileURLToPath(new URL('../../src/api/', import.meta.url))

function modulesUnder(dir: string): string[] {
  return readdirSync(join(API_DIR, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(dir, file))
    .sort()
}

const PLUGIN_META = Symbol.for('plugin-meta')
type Plugin = ((...args: never[]) => unknown) & { [PLUGIN_META]?: { name?: string; dependencies?: string[] } }

/**
 * Autoload skips, without a word, a file whose default export is not a plugin: each module
 * of plugins/ and routes/ must be one, so that none is left out of the app unnoticed.
 */
describe(`the app's plugin and route modules on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
  })
  afterAll(() => api?.destroy())

  it('makes every module under plugins/ a named plugin of the app, named after its file', async () => {
    const files = modulesUnder('plugins')
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      const { default: plugin } = (await import(join(API_DIR, file))) as { default?: Plugin }
      expect(typeof plugin, file).toBe('function')
      const name = plugin![PLUGIN_META]?.name
      expect(name, file).toBe(relative('plugins', file).split('/').at(-1)!.replace(/\.ts$/, ''))
      expect(api.app.hasPlugin(name!), file).toBe(true)
      for (const dependency of plugin![PLUGIN_META]?.dependencies ?? []) expect(api.app.hasPlugin(dependency), `${file} → ${dependency}`).toBe(true)
    }
  })

  it('serves each routes/ module at the URL its folders spell', async () => {
    const files = modulesUnder('routes')
    for (const file of files) {
      const { default: plugin } = (await import(join(API_DIR, file))) as { default?: unknown }
      expect(typeof plugin, file).toBe('function')
    }
    const folders = files.filter((file) => file.endsWith('/index.ts')).map((file) => `/${relative('routes', file)}`.replace(/\/index\.ts$/, '').replace(/\/_/g, '/:'))
    expect(folders).toEqual(expect.arrayContaining(['/api/v1/twaps', '/api/v1/twaps/:twap_id', '/api/v1/twaps/:twap_id/fills', '/api/v1/fills', '/api/v1/coverage', '/api/v1/wallets/:wallet/summary']))
    for (const url of folders) expect(api.app.hasRoute({ method: 'GET', url }), url).toBe(true)
  })
})
