import { Type, type Static } from 'typebox'
import { component } from './component.ts'

/** One bad request parameter and what is wrong with it. */
export const ParameterProblem = component('ParameterProblem', Type.Object({
  parameter: Type.String({ description: 'Name of the query or path parameter.' }),
  message: Type.String({ description: 'What is wrong with it.' }),
}, { description: 'One bad request parameter.' }))

/**
 * An RFC 9457 problem: every error the API answers, from 401 to 503, has this body with
 * the media type `application/problem+json`. `errors` lists each bad parameter of a 422.
 */
export const Problem = component('Problem', Type.Object({
  type: Type.String({ description: 'Problem type URI; `about:blank` means the HTTP status says it all.' }),
  title: Type.String({ description: 'The status\'s reason phrase, or a short summary.' }),
  status: Type.Integer({ description: 'The HTTP status.' }),
  detail: Type.String({ description: 'What went wrong, for a person to read.' }),
  errors: Type.Optional(Type.Array(ParameterProblem, { description: 'Each bad parameter (422 only).' })),
}, { description: 'RFC 9457 problem details.' }))

export type ProblemBody = Static<typeof Problem>
export type ParameterError = Static<typeof ParameterProblem>

export const PROBLEM_MEDIA_TYPE = 'application/problem+json'

type ErrorStatus = 401 | 404 | 422 | 429 | 503

const ERRORS: Record<ErrorStatus, { description: string; example: ProblemBody }> = {
  401: {
    description: 'The X-API-Key header is missing or unknown (only when API keys are configured).',
    example: { type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'An x-api-key header with a valid API key is required.' },
  },
  404: {
    description: 'No such resource.',
    example: { type: 'about:blank', title: 'Not Found', status: 404, detail: 'No TWAP with id 1219780.' },
  },
  422: {
    description: 'A parameter is missing, malformed or unknown; `errors` names each one.',
    example: {
      type: 'about:blank', title: 'Invalid request parameters', status: 422,
      detail: 'wallet: must be 0x followed by 40 hex digits; offset: is not supported: page with cursor, passing the next_cursor of the previous page',
      errors: [
        { parameter: 'wallet', message: 'must be 0x followed by 40 hex digits' },
        { parameter: 'offset', message: 'is not supported: page with cursor, passing the next_cursor of the previous page' },
      ],
    },
  },
  429: {
    description: 'Too many requests from this client (only when a rate limit is configured); see Retry-After.',
    example: { type: 'about:blank', title: 'Too Many Requests', status: 429, detail: 'Rate limit of 60 requests a minute exceeded; retry in 1 minute.' },
  },
  503: {
    description: 'The database is unreachable, or (exports) as many exports as the server takes at once are streaming; see Retry-After when given.',
    example: { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The database is unreachable; try again later.' },
  },
}

/** Response schemas for the given error statuses, for a route's `schema.response`, each with its own example. */
export function problemResponses(...statuses: ErrorStatus[]) {
  return Object.fromEntries(statuses.map((status) => [status, {
    description: ERRORS[status].description,
    content: { [PROBLEM_MEDIA_TYPE]: { schema: Problem, example: ERRORS[status].example } },
  }]))
}
