/**
 * The database cannot be reached or cannot do work at all (connection refused, lost or
 * timed out, server shutting down, disk full), as opposed to an error in one query. The
 * store's engines raise it, with a `code`, for the failures their drivers report without
 * one, so that `isDatabaseUnavailable` can decide by codes alone.
 */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
  readonly code: string
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/**
 * SQLSTATE classes of a server that cannot serve: 08 connection exception, 53 insufficient
 * resources (disk full, out of memory, too many connections), 57 operator intervention
 * (shutdown, terminated backend, statement timeout), 58 system error (I/O).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57|58)/

/** Node's system error codes of a connection or a disk that fails as a whole. */
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ENOSPC', 'EDQUOT',
])

/**
 * True when `err` means the database is unavailable rather than that a query was wrong:
 * the one test the API (503) and the CLI (a one-line "unavailable") share. It reads codes
 * only: a SQLSTATE of the classes above, a Node system error code, or the code of a
 * `DatabaseUnavailableError`; an error's `cause` counts too.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof DatabaseUnavailableError) return true
    const code = (e as { code?: unknown }).code
    if (typeof code !== 'string') continue
    if (/^[0-9A-Z]{5}$/.test(code)) return UNAVAILABLE_SQLSTATE.test(code)
    if (UNAVAILABLE_ERRNO.has(code)) return true
  }
  return false
}
