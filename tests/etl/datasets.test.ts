import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '#src/config.ts'
import { DATASETS } from '#src/etl/datasets.ts'
import { createS3Client } from '#src/source/s3-client.ts'

describe('the datasets and their configuration', () => {
  it('reads the fills bucket and prefix from FILLS_S3_BUCKET / FILLS_S3_PREFIX, with the statuses\' region, payer and endpoint', () => {
    const defaults = loadConfig({})
    expect(DATASETS.fills.s3(defaults)).toMatchObject({ bucket: 'hl-mainnet-node-data', prefix: 'node_fills_by_block/hourly/', requestPayer: 'requester', region: 'us-east-1' })
    const custom = loadConfig({ FILLS_S3_BUCKET: 'my-fills', FILLS_S3_PREFIX: 'node_fills/hourly/', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_REGION: 'eu-west-1' })
    expect(DATASETS.fills.s3(custom)).toMatchObject({ bucket: 'my-fills', prefix: 'node_fills/hourly/', endpoint: 'http://127.0.0.1:9', region: 'eu-west-1' })
    expect(DATASETS.statuses.s3(custom)).toMatchObject({ bucket: 'artemis-hyperliquid-data', prefix: 'raw/twap_statuses/' })
  })

  it('lets the SDK follow the fills bucket\'s region redirect, and leaves the statuses client as configured', () => {
    const config = loadConfig({})
    const fills = createS3Client(DATASETS.fills.s3(config))
    const statuses = createS3Client(DATASETS.statuses.s3(config))
    try {
      expect(fills.config.followRegionRedirects).toBe(true)
      expect(statuses.config.followRegionRedirects ?? false).toBe(false)
    } finally {
      fills.destroy()
      statuses.destroy()
    }
  })

  it('takes ETL_DATASETS as statuses, fills or both, and refuses anything else in one line', () => {
    expect(loadConfig({}).etl.datasets).toEqual(['statuses'])
    expect(loadConfig({ ETL_DATASETS: ' fills , statuses,fills' }).etl.datasets).toEqual(['fills', 'statuses'])
    expect(() => loadConfig({ ETL_DATASETS: 'statuses,trades' })).toThrow(new ConfigError('ETL_DATASETS must be statuses, fills or both, comma-separated (got "statuses,trades")'))
    expect(() => loadConfig({ ETL_DATASETS: ' , ' })).toThrow(ConfigError)
  })
})
