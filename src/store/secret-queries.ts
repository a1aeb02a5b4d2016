import type { Queryable } from './db.ts'

const CURSOR_SECRET_SQL = `SELECT value FROM app_secret WHERE name = 'cursor'`

/** The key cursors are signed with, as the migrations made it for this database. */
export async function storedCursorSecret(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ value: string }>(CURSOR_SECRET_SQL)
  if (!rows[0]) throw new Error('the database holds no cursor key: run the migrations (hl-twap db migrate)')
  return rows[0].value
}
