import { readFileSync } from 'node:fs'

/** The name, version, description and licence of this package, from its package.json. */
export const packageInfo = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string
  version: string
  description: string
  license: string
}
