/**
 * Spreadsheet-safe CSV (`csv_safe=true`): a cell that starts with `=`, `+`, `-`, `@`, a tab
 * or a carriage return is run as a formula by Excel, LibreOffice and Google Sheets, so such
 * a cell gets a leading `'` (OWASP's advice on CSV injection), which a spreadsheet shows as
 * text. Off by default: the prefix changes values (`-1.5` becomes `'-1.5`) that a program
 * reading the file must get as they are.
 */

const FORMULA_START = /^[=+\-@\t\r]/

const guard = (text: string) => (FORMULA_START.test(text) ? `'${text}` : text)

/** csv-stringify `cast` entries that guard every string and number cell; none when `safe` is false. */
export function formulaGuard(safe: boolean): { string?: (value: string) => string; number?: (value: number) => string; bigint?: (value: bigint) => string } {
  if (!safe) return {}
  return { string: guard, number: (value) => guard(String(value)), bigint: (value) => guard(String(value)) }
}

/** Whether a `csv_safe` query value turns safe mode on. */
export const isCsvSafe = (value: string | undefined) => value === 'true' || value === '1'
