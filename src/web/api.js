/**
 * The explorer's calls to the service's own API: JSON in, a `Problem` thrown for any error
 * answer, so the page can show each bad parameter next to its field.
 */

/** An error answer of the API (RFC 9457 problem), or a network failure (status 0). */
export class Problem extends Error {
  /**
   * @param {number} status
   * @param {{ detail?: string, title?: string, errors?: { parameter: string, message: string }[] }} body
   */
  constructor(status, body) {
    super(body.detail ?? (status === 503 ? 'The database is unreachable; try again later.' : body.title ?? `The service answered HTTP ${status}.`))
    this.status = status
    this.errors = body.errors ?? []
  }

  /** True when the service cannot reach its database, or cannot be reached at all. */
  get unavailable() {
    return this.status === 0 || this.status === 503 || this.status === 502 || this.status === 504
  }
}

/**
 * GETs `path` with `params` (empty values left out) and returns the parsed JSON body.
 * @param {string} path
 * @param {Record<string, string | undefined>} params
 * @param {AbortSignal} [signal]
 */
export async function getJson(path, params = {}, signal) {
  let response
  try {
    response = await fetch(apiUrl(path, params), { headers: { accept: 'application/json' }, signal })
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    throw new Problem(0, { detail: 'The service cannot be reached; check your connection and try again.' })
  }
  if (!response.ok) {
    let body = {}
    try {
      body = await response.json()
    } catch {
      body = { detail: `The service answered HTTP ${response.status}.` }
    }
    throw new Problem(response.status, body)
  }
  return response.json()
}

/**
 * `path?params` with the empty params left out, as a relative URL.
 * @param {string} path
 * @param {Record<string, string | undefined>} params
 */
export function apiUrl(path, params) {
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') query.set(name, value)
  }
  const text = query.toString()
  return text ? `${path}?${text}` : path
}
