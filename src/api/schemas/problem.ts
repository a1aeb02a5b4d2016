import { Type, type Static } from 'typebox'

/** One bad request parameter and what is wrong with it. */
export const ParameterProblem = Type.Object({
  parameter: Type.String({ description: 'Name of the query or path parameter.', examples: ['wallet'] }),
  message: Type.String({ examples: ['must be 0x followed by 40 hex digits'] }),
})

/**
 * An RFC 9457 problem: every error the API answers, from 401 to 503, has this body with
 * the media type `application/problem+json`. `errors` lists each bad parameter of a 422.
 */
export const Problem = Type.Object({
  type: Type.String({ description: 'Problem type URI; `about:blank` means the HTTP status says it all.' }),
  title: Type.String({ examples: ['Invalid request parameters'] }),
  status: Type.Integer({ examples: [422] }),
  detail: Type.String({ examples: ['wallet: must be 0x followed by 40 hex digits'] }),
  errors: Type.Optional(Type.Array(ParameterProblem)),
}, { description: 'RFC 9457 problem details.' })

export type ProblemBody = Static<typeof Problem>
export type ParameterError = Static<typeof ParameterProblem>

export const PROBLEM_MEDIA_TYPE = 'application/problem+json'

const DESCRIPTIONS: Record<number, string> = {
  401: 'The X-API-Key header is missing or unknown (only when API keys are configured).',
  404: 'Not found.',
  422: 'A parameter is missing or malformed; `errors` names each one.',
  429: 'Too many requests from this client (only when a rate limit is configured); see Retry-After.',
  503: 'The database is unreachable.',
}

/** Response schemas for the given error statuses, for a route's `schema.response`. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: DESCRIPTIONS[status] ?? 'Error.',
    content: { [PROBLEM_MEDIA_TYPE]: { schema: Problem } },
  }]))
}
