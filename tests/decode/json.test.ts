import { describe, expect, it } from 'vitest'
import { jsonValue } from '#src/decode/json.ts'
import { ParquetTimestamp } from '#src/decode/time.ts'

describe('jsonValue', () => {
  it('keeps int64 beyond 2^53 exact as a decimal string, smaller ones as numbers', () => {
    expect(jsonValue(2n ** 53n - 1n)).toBe('9007199254740991')
    expect(jsonValue(2n ** 53n + 1n)).toBe('"9007199254740993"')
    expect(jsonValue(-(2n ** 63n))).toBe('"-9223372036854775808"')
  })

  it('writes timestamps with full precision, bytes as text, structs as objects', () => {
    expect(jsonValue(new ParquetTimestamp(1_764_867_622_417_074_898n))).toBe('"2025-12-04T17:00:22.417074898Z"')
    expect(jsonValue(new TextEncoder().encode('PURR/USDC'))).toBe('"PURR/USDC"')
    expect(jsonValue({ error: 'x', n: 1n, list: [1, null] })).toBe('{"error":"x","n":1,"list":[1,null]}')
    expect(jsonValue(Number.NaN)).toBe('null')
  })

  it('drops NUL characters, which PostgreSQL JSONB refuses', () => {
    expect(jsonValue('a\u0000b')).toBe('"ab"')
    expect(JSON.parse(jsonValue('a\\u0000b'))).toBe('a\\u0000b')
  })
})
