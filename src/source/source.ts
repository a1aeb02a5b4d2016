import type { SourceObject } from './object.ts'

/** What reading a source's objects costs: S3's requester-pays requests and transfer. */
export interface CostEstimate {
  listRequests: number
  getRequests: number
  bytes: number
  usd: number
}

/** An object made readable on this machine: a file the decoders read whole or by range. */
export interface OpenedObject {
  path: string
  /** Removes what opening it left behind (a download); the source's own files stay. */
  release(): Promise<void>
}

/**
 * Where a run's objects come from (an S3 bucket, files on this machine): what it offers,
 * what reading them costs, and each one opened as a local file.
 */
export interface Source {
  /** The objects offered whose names end in one of `extensions` (lower-case); S3 leaves out empty ones and folder markers. */
  list(extensions: readonly string[]): Promise<SourceObject[]>
  /** What listing and then reading `objects` objects of `bytes` in all costs. */
  cost(objects: number, bytes: number): CostEstimate
  /** `object`, readable as a local file; `onBytes` hears of each chunk downloaded. */
  open(object: SourceObject, onBytes: (n: number) => void): Promise<OpenedObject>
  /** Gives back what the source holds (a client, a download directory). */
  close(): Promise<void>
}

/** Thrown by `list` when the one object asked for is not of the kind the run ingests. */
export class NotIngestibleError extends Error {
  override name = 'NotIngestibleError'
  readonly key: string
  constructor(key: string) {
    super(`${key} is not a file of the kind asked for (or is empty)`)
    this.key = key
  }
}

