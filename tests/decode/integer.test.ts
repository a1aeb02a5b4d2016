import { describe, expect, it } from 'vitest'
import { int32, integerText } from '#src/decode/integer.ts'

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

describe('int32', () => {
  it('reads minutes as a PostgreSQL INTEGER or null', () => {
    expect([30, 30n, '30', 30.0].map(int32)).toEqual([30, 30, 30, 30])
    expect([30.5, 2n ** 40n, 'x', null].map(int32)).toEqual([null, null, null, null])
  })
})
