import { ParquetTimestamp } from './time.ts'

const utf8 = new TextDecoder()

/**
 * JSON text of one decoded value for the raw payload, with an int64 beyond ±(2^53−1) as a
 * decimal string, since a JSON number would lose digits in every JavaScript reader.
 */
export function jsonValue(value: unknown): string {
  // Written by hand because `JSON.stringify` throws on bigint and its replacer is slow.
  // Timestamps are ISO strings with every digit of the file; bytes are UTF-8 text;
  // structs are objects and lists arrays; NaN and ±Infinity are `null`.
  switch (typeof value) {
    case 'string':
      return jsonString(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'bigint':
      return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? value.toString() : `"${value}"`
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object': {
      if (value === null) return 'null'
      if (value instanceof ParquetTimestamp) {
        const iso = value.isoFull()
        return iso === null ? jsonValue(value.value) : `"${iso}"`
      }
      if (value instanceof Uint8Array) return jsonString(utf8.decode(value))
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : `"${value.toISOString()}"`
      if (Array.isArray(value) || ArrayBuffer.isView(value)) {
        let out = '['
        const list = value as ArrayLike<unknown>
        for (let i = 0; i < list.length; i++) {
          if (i > 0) out += ','
          out += jsonValue(list[i])
        }
        return out + ']'
      }
      let out = '{'
      let first = true
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key]
        if (v === undefined) continue
        out += (first ? '' : ',') + jsonString(key) + ':' + jsonValue(v)
        first = false
      }
      return out + '}'
    }
    default:
      return 'null'
  }
}

/**
 * A JSON string literal. PostgreSQL's JSONB refuses `\u0000`, so NUL characters are
 * dropped here, the one place every raw string passes through.
 */
export function jsonString(s: string): string {
  return JSON.stringify(s.indexOf('\u0000') === -1 ? s : s.replaceAll('\u0000', ''))
}
