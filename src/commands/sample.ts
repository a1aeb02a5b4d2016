import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'

/** `hl-twap sample`. */
export function sampleCommand(program: Command): Command {
  return program.command('sample')
    .description('write the small sample files (the ones bundled under samples/): TWAP statuses as parquet, their fills as LZ4 node fills')
    .option('--out <path>', 'where to write the statuses', 'twap-sample.parquet')
    .option('--fills-out <path>', 'where to write the fills', 'node-fills-sample.lz4')
    .action(async (opts: { out: string; fillsOut: string }) => {
      // The parquet writer loads only for this command.
      const { sampleFillsLz4, sampleParquet } = await import('#src/sample.ts')
      await writeFile(opts.out, new Uint8Array(sampleParquet()))
      await writeFile(opts.fillsOut, sampleFillsLz4())
      process.stdout.write(`wrote ${opts.out} and ${opts.fillsOut}\n`)
    })
}
