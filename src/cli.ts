import { Command } from 'commander'
import { checkCommand } from './commands/check.ts'
import { etlCommand } from './commands/etl.ts'
import { exitFor } from './commands/exit.ts'
import { migrateCommand } from './commands/migrate.ts'
import { sampleCommand } from './commands/sample.ts'
import { serveCommand } from './commands/serve.ts'
import { startCommand } from './commands/start.ts'
import { packageInfo } from './package.ts'

// Under Node 20, which package.json supports, the AWS SDK writes a notice about its plans
// for 2027 over seven lines of stderr on every run: that breaks the one-line errors and
// the JSON log lines scripts read there. Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

const program = new Command('hl-twap')
  .description('Hyperliquid TWAP status events from the requester-pays S3 bucket, kept in PostgreSQL and served over a REST API.')
  .version(packageInfo.version, '-V, --version')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) })
  .exitOverride()

// Each command is defined on the program, so that it inherits the settings above.
for (const define of [migrateCommand, checkCommand, etlCommand, serveCommand, startCommand, sampleCommand]) define(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const { code, message } = exitFor(err)
  if (message) process.stderr.write(`hl-twap: ${message}\n`)
  if (process.env.LOG_LEVEL === 'debug' && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n')
  process.exit(code)
}
