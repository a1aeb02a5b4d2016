import { numberText } from './decimal.ts'
import { jsonValue } from './json.ts'

const utf8 = new TextDecoder()

/**
 * A text cell trimmed (`null` when empty), with numbers as their digits, bytes as UTF-8
 * text, nested values as their JSON, and no NUL characters, which PostgreSQL TEXT cannot hold.
 */
export function text(value: unknown): string | null {
  let s: string
  switch (typeof value) {
    case 'string':
      s = value
      break
    case 'number':
      return numberText(value)
    case 'bigint':
    case 'boolean':
      return String(value)
    case 'object':
      if (value === null) return null
      s = value instanceof Uint8Array ? utf8.decode(value) : jsonValue(value)
      break
    default:
      return null
  }
  s = s.trim()
  if (s.length === 0) return null
  return s.indexOf('\u0000') === -1 ? s : s.replaceAll('\u0000', '')
}

/**
 * A wallet address lower-cased, when it is `0x` + 40 hex digits after trimming; else
 * `null`. Users and some files write checksummed mixed case.
 */
export function wallet(value: unknown): string | null {
  let s = typeof value === 'string' ? value : value instanceof Uint8Array ? utf8.decode(value) : null
  if (s === null) return null
  if (s.length !== 42) s = s.trim()
  if (s.length !== 42) return null
  s = s.toLowerCase()
  if (s.charCodeAt(0) !== 48 || s.charCodeAt(1) !== 120 /* 0x */) return null
  for (let i = 2; i < 42; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return null
  }
  return s
}

/**
 * The status word as text. An error status arrives either as text (`error: …`) or nested
 * (`{error: "…"}` as a struct, or that object as JSON text); both read
 * `error: Insufficient margin`. Any other nested value reads as its JSON.
 */
export function statusText(value: unknown): string | null {
  if (typeof value === 'string') {
    const s = value.trim()
    if (s.length === 0) return null
    if (s.charCodeAt(0) === 123 /* { */) {
      try {
        const parsed: unknown = JSON.parse(s)
        if (parsed !== null && typeof parsed === 'object') return nestedStatus(parsed as Record<string, unknown>)
      } catch {
        // not JSON after all: the text is the status
      }
    }
    return text(s)
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !Array.isArray(value)) {
    return nestedStatus(value as Record<string, unknown>)
  }
  if (value instanceof Uint8Array) return statusText(utf8.decode(value))
  return text(value)
}

function nestedStatus(value: Record<string, unknown>): string | null {
  const error = value.error
  if (error !== null && error !== undefined) {
    return `error: ${typeof error === 'string' ? error.trim() : jsonValue(error)}`
  }
  const status = value.status
  if (typeof status === 'string') {
    const description = value.description
    return status === 'error' && typeof description === 'string' ? `error: ${description.trim()}` : status.trim()
  }
  return text(jsonValue(value))
}
