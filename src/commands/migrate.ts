import type { Command } from 'commander'
import { createLogger } from '#src/log.ts'
import { openStore } from '#src/store/open.ts'
import { commandConfig } from './settings.ts'

/** `hl-twap db migrate`. */
export function migrateCommand(program: Command): Command {
  const db = program.command('db').description('database maintenance')
  db.command('migrate')
    .description('apply the pending schema migrations (start-up does this too)')
    .action(async () => {
      const cfg = commandConfig()
      const logger = createLogger(cfg.logLevel)
      const { db, applied } = await openStore(cfg)
      await db.close()
      logger.info({ applied, database: db.location }, applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date')
    })
  return db
}
