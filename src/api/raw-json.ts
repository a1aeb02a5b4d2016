import type { FastifyReply } from 'fastify'

/**
 * Raw payloads put into an answer as the JSON text the database holds (a `jsonb` column
 * read as text), instead of parsed into objects and serialised back. The answer is
 * serialised with a placeholder string where each text goes, then each placeholder is
 * replaced by its text. A placeholder is U+0000 and a number; neither PostgreSQL's text nor
 * its jsonb can hold U+0000, so no stored value serialises to one.
 */
export class RawTexts {
  readonly #texts: string[] = []

  /** The placeholder of `text` (null stays null). */
  hold(text: string | null): string | null {
    if (text === null) return null
    this.#texts.push(text)
    return `\u0000${this.#texts.length - 1}`
  }

  /** `json`, serialised with placeholders of this instance, with each one replaced by its text. */
  splice(json: string): string {
    if (this.#texts.length === 0) return json
    return json.replace(PLACEHOLDER, (_match, index: string) => {
      const text = this.#texts[Number(index)]
      if (text === undefined) throw new Error(`raw payload ${index} was not held here`)
      return text
    })
  }
}

// A placeholder as a JSON serialiser writes it: a string whose first character is escaped.
const PLACEHOLDER = /"\\u0000(\d+)"/g

/**
 * Sends `body` as the route's JSON answer: serialised by the route's own compiled response
 * schema (the one Fastify would use), with the raw payloads `raws` holds spliced in.
 */
export function sendJsonWithRaw(reply: FastifyReply, body: { [key: string]: unknown }, raws: RawTexts): FastifyReply {
  const serialize = reply.getSerializationFunction('200', 'application/json')
  if (!serialize) throw new Error(`${reply.request.routeOptions.url ?? 'this route'} has no JSON response schema`)
  return reply.type('application/json; charset=utf-8').send(raws.splice(serialize(body)))
}
