/** A flag written as a boolean, `'true'`/`'false'` (any case, also t/f, yes/no), or 0/1. */
export function boolean(value: unknown): boolean | null {
  switch (typeof value) {
    case 'boolean':
      return value
    case 'number':
    case 'bigint':
      return value == 1 ? true : value == 0 ? false : null
    case 'string':
      switch (value.trim().toLowerCase()) {
        case 'true': case 't': case '1': case 'yes': case 'y':
          return true
        case 'false': case 'f': case '0': case 'no': case 'n':
          return false
        default:
          return null
      }
    default:
      return null
  }
}
