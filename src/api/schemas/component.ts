import type { TSchema } from 'typebox'

/** The annotation naming a schema the OpenAPI document lists once under `components`. */
export const COMPONENT_KEY = 'x-component'

/**
 * Names `schema` as the OpenAPI component `name`: the document then lists it once under
 * `components.schemas` and refers to it with `$ref` wherever it appears (see
 * `plugins/docs.ts`). The schema itself stays inline for validation and serialisation, so
 * the TypeBox types of the routes keep following it.
 */
export function component<T extends TSchema>(name: string, schema: T): T {
  return Object.assign(schema, { [COMPONENT_KEY]: name })
}
