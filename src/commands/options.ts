import { InvalidArgumentError, Option } from 'commander'
import { parseInstant } from '#src/api/instant.ts'
import { DATASET_NAMES } from '#src/config.ts'

/** An option's value that must be a whole number of 1 or more. */
export const positiveInt = (name: string) => (value: string): number => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`)
  return n
}

/** `--since`: read as the API reads `start` and `end` (a bare date is 00:00 UTC, no zone is UTC). */
export const instant = (value: string): Date => {
  const micros = parseInstant(value)
  if (micros === null) throw new InvalidArgumentError('expected an ISO-8601 date or time, e.g. 2025-11-01 or 2025-11-01T12:00:00Z')
  return new Date(Number(micros / 1000n))
}

/** `--dataset`: one dataset, or `all` of them in order. */
export const datasetOption = (description: string): Option =>
  new Option('--dataset <name>', description).choices([...DATASET_NAMES, 'all'])
