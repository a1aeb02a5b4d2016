import { Type, type Static } from 'typebox'

const LastIngested = Type.Object({
  s3_object_key: Type.String(),
  ingested_at: Type.String({ format: 'date-time', description: 'ISO-8601 UTC.' }),
  age_seconds: Type.Number(),
})

const DatasetHealth = Type.Object({
  configured: Type.Boolean({ description: 'The dataset is in ETL_DATASETS: scheduled and plain ETL runs ingest it.' }),
  stale: Type.Boolean({ description: 'Its newest ingested object is older than stale_after_hours; false before its first.' }),
  last_ingested: Type.Union([LastIngested, Type.Null()], { description: 'Its newest object ingested without error; null before the first.' }),
})

/** The health resource: what `/healthz` reports to load balancers and monitoring. */
export const Health = Type.Object({
  status: Type.Unsafe<'ok' | 'stale' | 'unavailable'>({
    type: 'string',
    enum: ['ok', 'stale', 'unavailable'],
    description: 'ok; stale when a configured dataset\'s newest ingested object is older than the threshold (still HTTP 200); unavailable when the database does not answer (HTTP 503).',
  }),
  database: Type.Object({
    status: Type.Unsafe<'ok' | 'unavailable'>({ type: 'string', enum: ['ok', 'unavailable'] }),
    engine: Type.Unsafe<'postgres' | 'pglite'>({ type: 'string', enum: ['postgres', 'pglite'] }),
    reason: Type.Optional(Type.String({ description: 'Why the database is unavailable: no answer within the deadline, or the error code.' })),
  }),
  last_ingested: Type.Union([LastIngested, Type.Null()], { description: 'The newest object ingested without error, of any dataset; null before the first.' }),
  stale_after_hours: Type.Number({ description: 'Age of a dataset\'s newest ingested object beyond which it is stale.' }),
  datasets: Type.Optional(Type.Object({ statuses: DatasetHealth, fills: DatasetHealth }, {
    description: 'Each dataset\'s own newest ingest; absent when the database is unavailable.',
  })),
  replica: Type.Optional(Type.Object({
    standby: Type.Boolean({ description: 'The read database is a standby in recovery; false for a primary, whose lag figures are null.' }),
    lag_seconds: Type.Union([Type.Number(), Type.Null()], {
      description: 'How far the data served is behind: 0 when the replica has replayed all the WAL it received, else the age of the last transaction it replayed. Null when unknown.',
    }),
    lag_bytes: Type.Union([Type.Number(), Type.Null()], { description: 'Bytes of WAL received from the primary and not yet replayed; null when not streaming.' }),
    primary: Type.Object({
      status: Type.Unsafe<'ok' | 'unavailable'>({ type: 'string', enum: ['ok', 'unavailable'] }),
      reason: Type.Optional(Type.String({ description: 'Why the primary is unavailable.' })),
    }, { description: 'The primary the ETL writes to (DATABASE_URL). While it is unavailable the API still serves from the replica.' }),
  }, { description: 'Only when the API reads a replica (DATABASE_READ_URL): its lag, and the state of the primary. status and database describe the replica the API reads.' })),
})
export type Health = Static<typeof Health>
