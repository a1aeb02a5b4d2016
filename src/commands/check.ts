import { Option, type Command } from 'commander'
import { DATASET_NAMES, type DatasetName } from '#src/config.ts'
import { openStore } from '#src/store/open.ts'
import { EXIT } from './exit.ts'
import { datasetOption, instant } from './options.ts'
import { commandConfig } from './settings.ts'

/** `hl-twap check`. */
export function checkCommand(program: Command): Command {
  return program.command('check')
    .description('print coverage gaps, failed objects and every TWAP whose fills do not add up to what it executed; exit 1 when there is any')
    .addOption(new Option('--since <iso8601>', 'check the hours from this instant to now, and the TWAPs ending since').argParser(instant))
    .addOption(datasetOption('statuses, fills or all (default all)'))
    .action(async (opts: { since?: Date; dataset?: DatasetName | 'all' }) => {
      const cfg = commandConfig()
      const { db } = await openStore(cfg)
      try {
        const { runCheck } = await import('#src/check.ts')
        const report = await runCheck(db, { since: opts.since, datasets: !opts.dataset || opts.dataset === 'all' ? DATASET_NAMES : [opts.dataset] })
        process.stdout.write(report.lines.join('\n') + '\n')
        if (report.problems > 0) process.exitCode = EXIT.failed
      } finally {
        await db.close()
      }
    })
}
