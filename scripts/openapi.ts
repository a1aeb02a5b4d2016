/**
 * Writes the API's OpenAPI document to the file named by the first argument (stdout
 * without one), as `/openapi.json` serves it with the default configuration: for the
 * OpenAPI lint and for generating clients offline. The app is built but never listens,
 * and no route runs, so it needs no database: the document comes from the routes' schemas.
 */
import { writeFileSync } from 'node:fs'
import { buildApp } from '#src/api/app.ts'
import { loadConfig } from '#src/config.ts'
import type { Db } from '#src/store/db.ts'

// Any use of the database throws; Fastify's `decorate` only asks whether it is a getter or setter.
const unused = new Proxy({}, {
  get: (_target, property) => {
    if (property === 'getter' || property === 'setter') return undefined
    throw new Error('the OpenAPI document needs no database')
  },
}) as Db
const app = await buildApp({ db: unused, config: loadConfig({}) })
await app.ready()
const text = JSON.stringify(app.swagger(), null, 2) + '\n'
await app.close()
const out = process.argv[2]
if (out) writeFileSync(out, text)
else process.stdout.write(text)
