import { describe, expect, it } from 'vitest'
import { decimalFromUnscaled, decimalText, numberText } from '#src/decode/decimal.ts'

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
