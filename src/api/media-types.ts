import type { ExportFormat } from './schemas/twaps.ts'

/** The media type each export format is served as. */
export const MEDIA_TYPES: Record<ExportFormat, string> = {
  json: 'application/json',
  csv: 'text/csv',
  ndjson: 'application/x-ndjson',
}
const FORMAT_BY_MEDIA_TYPE = new Map(Object.entries(MEDIA_TYPES).map(([format, type]) => [type, format as ExportFormat]))

/**
 * The format an `Accept` header prefers among JSON, CSV and NDJSON (by q-value, then
 * order); JSON when it names none of them. Parsed here because the few lines beat a
 * dependency for three media types.
 */
export function formatFromAccept(accept: string | undefined): ExportFormat {
  if (!accept) return 'json'
  let best: { format: ExportFormat; q: number } | undefined
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase())
    const format = FORMAT_BY_MEDIA_TYPE.get(type)
    const qParam = params.find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (format && q > 0 && (!best || q > best.q)) best = { format, q }
  }
  return best?.format ?? 'json'
}
