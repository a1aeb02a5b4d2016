/**
 * The layering the code keeps, checked in CI: each layer imports only the layers below it.
 *   source (S3, local files) ← decode (bytes → rows) ← store (SQL) ← etl, api ← commands
 * `config`, `log`, `metrics`, `package` and `sample` sit beside them and import no layer
 * (but the sample, which reads the statuses table).
 */
const LAYERS_ABOVE = {
  source: ['decode', 'store', 'etl', 'api', 'commands'],
  decode: ['store', 'etl', 'api', 'commands'],
  store: ['etl', 'api', 'commands'],
  etl: ['api', 'commands'],
  api: ['etl', 'commands'],
}

/** The sample writes its parquet file by the statuses table, the one module of a layer it reads. */
const SAMPLE_READS = '^src/decode/event\\.ts$'

/** The modules of the command layer: the CLI and what it starts. */
const COMMANDS = '^src/(cli|serve|commands/)'
const pathOf = (layer) => (layer === 'commands' ? COMMANDS : `^src/${layer}/`)

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes the load order matter and the layers meaningless.',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(LAYERS_ABOVE).map(([layer, above]) => ({
      name: `${layer}-looks-down`,
      severity: 'error',
      comment: `${layer}/ imports only the layers below it.`,
      from: { path: pathOf(layer) },
      to: { path: above.map(pathOf) },
    })),
    {
      name: 'shared-modules-import-no-layer',
      severity: 'error',
      comment: 'config, log, metrics, package and sample are used by every layer, so they import none.',
      from: { path: '^src/(config|log|metrics|package|sample)\\.ts$' },
      to: { path: ['^src/(source|decode|store|etl|api|commands)/', COMMANDS], pathNot: SAMPLE_READS },
    },
    {
      name: 'src-not-tests',
      severity: 'error',
      comment: 'The service never depends on its tests or benchmarks.',
      from: { path: '^src/' },
      to: { path: '^(tests|bench)/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'Every import resolves: a typo in a path fails here rather than at run time.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The explorer's browser modules import by URL (its chart library is served from
    // /assets/vendor/), and sit outside the service's layers.
    exclude: { path: '^src/web/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['source', 'import', 'require', 'node', 'default', 'types'] },
  },
}
