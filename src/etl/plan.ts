import { keyPath } from '#src/source/local.ts'
import type { SourceObject } from '#src/source/object.ts'
import type { LoggedObject } from '#src/store/ingest-log.ts'

export type { SourceObject }

/** Why an object is to be fetched. */
export type FetchReason = 'new' | 'changed' | 'retry' | 'forced'

export interface PlannedObject extends SourceObject {
  reason: FetchReason
  /** It was seen before, so rows of an earlier version may exist: they are replaced in the same transaction. */
  replaces: boolean
}

export interface Plan {
  fetch: PlannedObject[]
  /** Objects already ingested with the same ETag and LastModified. */
  unchanged: number
  bytes: number
}

/**
 * Compares the objects found with the ingest log and returns what to fetch, in key order
 * (a local file's by its shown path, not the hash before it, so that local files load in
 * the order of their names): objects never seen, objects whose ETag or LastModified
 * changed since, objects whose last attempt failed, and with `force` everything.
 */
export function planObjects(objects: readonly SourceObject[], log: ReadonlyMap<string, LoggedObject>, force = false): Plan {
  const fetch: PlannedObject[] = []
  let unchanged = 0
  for (const object of objects) {
    const logged = log.get(object.key)
    const reason = fetchReason(object, logged, force)
    if (reason) fetch.push({ ...object, reason, replaces: logged !== undefined })
    else unchanged++
  }
  fetch.sort((a, b) => compare(keyPath(a.key), keyPath(b.key)) || compare(a.key, b.key))
  return { fetch, unchanged, bytes: fetch.reduce((sum, o) => sum + o.size, 0) }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

function fetchReason(object: SourceObject, logged: LoggedObject | undefined, force: boolean): FetchReason | null {
  if (!logged) return 'new'
  if (logged.failed) return 'retry'
  if (logged.etag !== object.etag || logged.lastModified !== object.lastModified.toISOString()) return 'changed'
  return force ? 'forced' : null
}
