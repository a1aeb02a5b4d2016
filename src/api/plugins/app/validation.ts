import type { FastifyInstance, FastifySchemaValidationError, FastifyServerOptions, preValidationAsyncHookHandler } from 'fastify'
import fp from 'fastify-plugin'
import { isInstant } from '#src/api/instant.ts'
import { COMPONENT_KEY } from '#src/api/schemas/component.ts'
import { INSTANT_FORMAT } from '#src/api/schemas/formats.ts'
import type { ParameterError } from '#src/api/schemas/problem.ts'

/**
 * How Fastify's Ajv validates requests here: every error at once (so a 422 names each bad
 * parameter, not only the first), with the failing schema attached (`verbose`) so the 422
 * can say the parameter's own `x-message`, and the `instant` format of `start` / `end`.
 * Every pattern is anchored and linear, so checking all errors costs no more than the
 * bounded query string they run on.
 */
export const validatorOptions: NonNullable<FastifyServerOptions['ajv']> = {
  // `removeAdditional: false`: Fastify's default silently drops unknown query parameters,
  // so that `offset=1` or a misspelt `lastest_per_twap` would answer as if never sent.
  customOptions: { allErrors: true, verbose: true, removeAdditional: false },
  onCreate(ajv) {
    ajv.addFormat(INSTANT_FORMAT, { type: 'string', validate: isInstant })
    // Annotations for the error message and the OpenAPI components, extensions there.
    ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' })
    ajv.addKeyword({ keyword: COMPONENT_KEY, schemaType: 'string' })
  },
}

const NO_PARAMETERS = { type: 'object', properties: {}, additionalProperties: false } as const

/** A number in a query string: decimal digits only (leading zeros read as decimal). */
const DECIMAL_DIGITS = /^[0-9]{1,16}$/

/**
 * Makes every documented route refuse query parameters its schema does not name: a
 * querystring schema is closed (`additionalProperties: false`) unless it says otherwise,
 * and a route without one takes none. Routes added later are covered without a word, so
 * an unknown parameter is always a 422 naming it rather than a silently different answer.
 * Every plugin that adds routes depends on this one: it sees them as they are added.
 */
async function strictQueries(app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', (route) => {
    if (route.schema?.hide || (route.url.startsWith('/docs') && !route.schema)) return
    const schema = (route.schema ??= {})
    const query = schema.querystring as { type?: string; additionalProperties?: unknown; properties?: Record<string, { type?: unknown }> } | undefined
    if (!query) schema.querystring = NO_PARAMETERS
    else if (query.type === 'object' && query.additionalProperties === undefined) schema.querystring = { ...query, additionalProperties: false }
    const numeric = Object.entries(query?.properties ?? {}).filter(([, p]) => p.type === 'integer' || p.type === 'number').map(([name]) => name)
    if (numeric.length > 0) route.preValidation = [...[route.preValidation ?? []].flat(), plainNumbers(numeric)]
  })
}

/**
 * A check, before the schema's, that every numeric query parameter is written as decimal
 * digits: Ajv coerces a query string's text with JavaScript's `Number`, which also reads
 * `0x10`, `0b11`, `0o7`, `1e3`, `+5` and ` 5 ` as numbers, so that a typo or a probe
 * would be answered as if a plain number had been sent. A value written otherwise is
 * replaced by one no type coercion accepts, so the schema refuses it with its own message
 * and in the same 422 as every other bad parameter.
 */
function plainNumbers(names: string[]): preValidationAsyncHookHandler {
  return async (request) => {
    const query = request.query as Record<string, unknown>
    for (const name of names) {
      const value = query[name]
      if (value !== undefined && ![value].flat().every((v) => typeof v === 'string' && DECIMAL_DIGITS.test(v))) query[name] = { notDecimal: value }
    }
  }
}

/** Query parameters other APIs page with, and what to use here instead. */
const PAGING_HINTS: Record<string, string> = {
  offset: 'is not supported: page with cursor, passing the next_cursor of the previous page',
  page: 'is not supported: page with cursor, passing the next_cursor of the previous page',
}

/**
 * The bad parameters behind Ajv's errors, one entry per parameter, in the order the
 * errors came: a missing one "is required", a malformed one says its schema's `x-message`.
 * `part` names the parameter when the error concerns the whole query or path.
 */
export function parameterErrors(errors: readonly FastifySchemaValidationError[], part: string): ParameterError[] {
  const found = new Map<string, string>()
  for (const e of errors) {
    if (e.keyword === 'additionalProperties') {
      const name = String((e.params as { additionalProperty?: unknown }).additionalProperty)
      const known = Object.keys((e as { parentSchema?: { properties?: object } }).parentSchema?.properties ?? {})
      if (!found.has(name)) found.set(name, PAGING_HINTS[name] ?? unknownParameter(name, known))
      continue
    }
    const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined
    const parameter = missing ?? decodePointer(e.instancePath) ?? part
    const ownMessage = (e as { parentSchema?: { 'x-message'?: string } }).parentSchema?.['x-message']
    const message = missing !== undefined ? 'is required' : ownMessage ?? e.message ?? 'is invalid'
    if (!found.has(parameter)) found.set(parameter, message)
  }
  return [...found].map(([parameter, message]) => ({ parameter, message }))
}

/** What a 422 says of a parameter the endpoint does not take: the one meant when it is a near miss. */
function unknownParameter(name: string, known: readonly string[]): string {
  if (known.length === 0) return 'is not a parameter of this endpoint, which takes none'
  const near = known.find((k) => editDistance(name.toLowerCase(), k) <= Math.max(1, Math.floor(k.length / 4)))
  return `is not a parameter of this endpoint${near ? ` (did you mean ${near}?)` : ''}; it takes ${known.join(', ')}`
}

// Levenshtein distance, for the "did you mean" of a misspelt parameter; the names are
// short and few, so the quadratic table costs nothing.
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

/** `/wallet` → `wallet`; an empty pointer (the whole object) → undefined. */
function decodePointer(pointer: string): string | undefined {
  const first = pointer.split('/')[1]
  return first ? first.replace(/~1/g, '/').replace(/~0/g, '~') : undefined
}

export default fp(strictQueries, { name: 'validation' })
