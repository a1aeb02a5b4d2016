import type { FastifySchemaValidationError, FastifyServerOptions } from 'fastify'
import { isInstant } from '../instant.ts'
import { INSTANT_FORMAT } from '../schemas/twaps.ts'
import type { ParameterError } from '../schemas/problem.ts'

/**
 * How Fastify's Ajv validates requests here: every error at once (so a 422 names each bad
 * parameter, not only the first), with the failing schema attached (`verbose`) so the 422
 * can say the parameter's own `x-message`, and the `instant` format of `start` / `end`.
 * Every pattern is anchored and linear, so checking all errors costs no more than the
 * bounded query string they run on.
 */
export const validatorOptions: NonNullable<FastifyServerOptions['ajv']> = {
  customOptions: { allErrors: true, verbose: true },
  onCreate(ajv) {
    ajv.addFormat(INSTANT_FORMAT, { type: 'string', validate: isInstant })
    // An annotation for the error message, documented in OpenAPI as an extension.
    ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' })
  },
}

/**
 * The bad parameters behind Ajv's errors, one entry per parameter, in the order the
 * errors came: a missing one "is required", a malformed one says its schema's `x-message`.
 * `part` names the parameter when the error concerns the whole query or path.
 */
export function parameterErrors(errors: readonly FastifySchemaValidationError[], part: string): ParameterError[] {
  const found = new Map<string, string>()
  for (const e of errors) {
    const missing = e.keyword === 'required' ? (e.params as { missingProperty?: string }).missingProperty : undefined
    const parameter = missing ?? decodePointer(e.instancePath) ?? part
    const ownMessage = (e as { parentSchema?: { 'x-message'?: string } }).parentSchema?.['x-message']
    const message = missing !== undefined ? 'is required' : ownMessage ?? e.message ?? 'is invalid'
    if (!found.has(parameter)) found.set(parameter, message)
  }
  return [...found].map(([parameter, message]) => ({ parameter, message }))
}

/** `/wallet` → `wallet`; an empty pointer (the whole object) → undefined. */
function decodePointer(pointer: string): string | undefined {
  const first = pointer.split('/')[1]
  return first ? first.replace(/~1/g, '/').replace(/~0/g, '~') : undefined
}
