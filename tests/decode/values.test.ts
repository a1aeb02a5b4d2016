import { describe, expect, it } from 'vitest'
import { boolean } from '#src/decode/boolean.ts'
import { decimalFromUnscaled, decimalText, numberText } from '#src/decode/decimal.ts'
import { int32, integerText } from '#src/decode/integer.ts'
import { jsonValue } from '#src/decode/json.ts'
import { statusText, text, wallet } from '#src/decode/text.ts'
import { ParquetTimestamp } from '#src/decode/time.ts'

describe('decimalText', () => {
  it('keeps decimal strings exactly as written, trimmed', () => {
    expect(decimalText('0.1')).toBe('0.1')
    expect(decimalText(' 108.36 ')).toBe('108.36')
    expect(decimalText('0.0')).toBe('0.0')
    expect(decimalText('-12.500')).toBe('-12.500')
    expect(decimalText('123456789012345678901234567890.123456789')).toBe('123456789012345678901234567890.123456789')
    expect(decimalText('1e-7')).toBe('1e-7')
  })

  it('refuses strings that are not decimal numbers', () => {
    for (const bad of ['', ' ', 'abc', '1.2.3', '--1', '.', 'NaN', 'Infinity', '1e', '0x10', '1,5']) {
      expect(decimalText(bad), bad).toBeNull()
    }
  })

  it('writes a float64 as its shortest round-trip decimal, without exponent', () => {
    expect(decimalText(950.25)).toBe('950.25')
    expect(decimalText(0.1)).toBe('0.1')
    expect(decimalText(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(numberText(1e-7)).toBe('0.0000001')
    expect(numberText(-1.5e-9)).toBe('-0.0000000015')
    expect(numberText(1e21)).toBe('1000000000000000000000')
    expect(numberText(1.2345e22)).toBe('12345000000000000000000')
  })

  it('writes int64 as its digits and refuses NaN and Infinity', () => {
    expect(decimalText(2n ** 63n - 1n)).toBe('9223372036854775807')
    expect(decimalText(Number.NaN)).toBeNull()
    expect(decimalText(Number.NEGATIVE_INFINITY)).toBeNull()
    expect(decimalText(null)).toBeNull()
  })

  it('formats parquet DECIMAL values from their unscaled integer', () => {
    expect(decimalFromUnscaled(12345n, 2)).toBe('123.45')
    expect(decimalFromUnscaled(-5, 3)).toBe('-0.005')
    expect(decimalFromUnscaled(new Uint8Array([0xff, 0x85]), 1)).toBe('-12.3')
    expect(decimalFromUnscaled(7n, 0)).toBe('7')
  })
})

describe('integerText', () => {
  it('gives the digits of int64, integral numbers and digit strings', () => {
    expect(integerText(1430699n)).toBe('1430699')
    expect(integerText(1430699)).toBe('1430699')
    expect(integerText(' 1430699 ')).toBe('1430699')
    expect(integerText('0001430699')).toBe('1430699')
    expect(integerText(2n ** 63n - 1n)).toBe('9223372036854775807')
  })

  it('refuses empty, negative and non-integer ids', () => {
    for (const bad of ['', '  ', '12a', '-5', -5n, 1.5, null, undefined]) expect(integerText(bad), String(bad)).toBeNull()
  })
})

describe('wallet', () => {
  it('lower-cases a mixed-case address and trims it', () => {
    expect(wallet(' 0x9D6A0B3c4e5F60718293a4B5c6D7e8F901234AB8 ')).toBe('0x9d6a0b3c4e5f60718293a4b5c6d7e8f901234ab8')
  })

  it('refuses anything but 0x + 40 hex digits', () => {
    for (const bad of ['0x9d6a', '9d6a0b3c4e5f60718293a4b5c6d7e8f901234ab8', '0x9d6a0b3c4e5f60718293a4b5c6d7e8f901234ag8', '', null, 42]) {
      expect(wallet(bad), String(bad)).toBeNull()
    }
  })
})

describe('statusText', () => {
  it('keeps plain statuses, trimmed', () => {
    expect(statusText('activated')).toBe('activated')
    expect(statusText(' finished ')).toBe('finished')
    expect(statusText('error: Insufficient margin to place order.')).toBe('error: Insufficient margin to place order.')
    expect(statusText('')).toBeNull()
  })

  it('reads a nested error as a struct or as JSON text', () => {
    expect(statusText({ error: 'Insufficient margin' })).toBe('error: Insufficient margin')
    expect(statusText('{"error": "Insufficient margin"}')).toBe('error: Insufficient margin')
    expect(statusText({ status: 'error', description: 'Insufficient margin' })).toBe('error: Insufficient margin')
    expect(statusText('{not json')).toBe('{not json')
  })
})

describe('flags and integers', () => {
  it('reads booleans written as booleans, words or 0/1', () => {
    expect([true, 'true', 'TRUE', 1, 1n, 't'].map(boolean)).toEqual([true, true, true, true, true, true])
    expect([false, 'false', ' False ', 0, 0n, 'f'].map(boolean)).toEqual([false, false, false, false, false, false])
    expect([null, 'maybe', 2].map(boolean)).toEqual([null, null, null])
  })

  it('reads minutes as a PostgreSQL INTEGER or null', () => {
    expect([30, 30n, '30', 30.0].map(int32)).toEqual([30, 30, 30, 30])
    expect([30.5, 2n ** 40n, 'x', null].map(int32)).toEqual([null, null, null, null])
  })

  it('trims text and turns empty into null', () => {
    expect(text(' BTC ')).toBe('BTC')
    expect(text('')).toBeNull()
    expect(text(new TextEncoder().encode('@107'))).toBe('@107')
  })
})

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
