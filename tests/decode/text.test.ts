import { describe, expect, it } from 'vitest'
import { statusText, text, wallet } from '#src/decode/text.ts'

describe('text', () => {
  it('trims text and turns empty into null', () => {
    expect(text(' BTC ')).toBe('BTC')
    expect(text('')).toBeNull()
    expect(text(new TextEncoder().encode('@107'))).toBe('@107')
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
