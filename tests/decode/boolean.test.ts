import { describe, expect, it } from 'vitest'
import { boolean } from '#src/decode/boolean.ts'

describe('boolean', () => {
  it('reads booleans written as booleans, words or 0/1', () => {
    expect([true, 'true', 'TRUE', 1, 1n, 't'].map(boolean)).toEqual([true, true, true, true, true, true])
    expect([false, 'false', ' False ', 0, 0n, 'f'].map(boolean)).toEqual([false, false, false, false, false, false])
    expect([null, 'maybe', 2].map(boolean)).toEqual([null, null, null])
  })
})
