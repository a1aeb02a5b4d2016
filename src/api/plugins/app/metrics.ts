import type { FastifyInstance } from 'fastify'
import { Counter, Histogram } from 'prom-client'
import fp from 'fastify-plugin'
import { DATASET_NAMES } from '#src/config.ts'
import { registerCompletenessGauges } from '#src/metrics.ts'
import { readCompleteness } from '#src/store/completeness.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'
import type { AppPluginOptions } from './store.ts'

/**
 * Prometheus metrics of the HTTP API in `registry` (request count and latency by method,
 * route pattern and status) and `GET /metrics` serving the whole registry, so metrics other
 * parts of the process register there (the ETL's) appear beside them. Routes are labelled
 * by pattern (`/api/v1/twaps/:twap_id`) and unknown URLs all as `unmatched`, which keeps
 * the number of series bounded whatever clients request.
 */
async function metrics(app: FastifyInstance, { registry }: Pick<AppPluginOptions, 'registry'>): Promise<void> {
  registerCompletenessGauges(registry, () => readCompleteness(app.db, DATASET_NAMES), {
    timeoutMs: app.config.health.timeoutMs,
    onError: (err) => app.log.warn({ err }, 'metrics: could not read the completeness counts'),
  })
  const labelNames = ['method', 'route', 'status_code'] as const
  const requests = (registry.getSingleMetric('hltwap_http_requests_total') as Counter<(typeof labelNames)[number]> | undefined) ??
    new Counter({ name: 'hltwap_http_requests_total', help: 'HTTP requests answered, by method, route and status.', labelNames, registers: [registry] })
  const latency = (registry.getSingleMetric('hltwap_http_request_duration_seconds') as Histogram<(typeof labelNames)[number]> | undefined) ??
    new Histogram({
      name: 'hltwap_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (to the last byte for streamed exports), by method, route and status.',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    })

  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }
    requests.inc(labels)
    latency.observe(labels, reply.elapsedTime / 1000)
  })

  app.get('/metrics', {
    schema: {
      operationId: 'getMetrics',
      summary: 'Prometheus metrics',
      description: 'Prometheus text exposition: HTTP request counts and latency by route and status, the completeness gauges (coverage gaps, missing hours and failed objects per dataset, unreconciled TWAPs), and the ETL\'s metrics when it runs in this process.',
      tags: ['operations'],
      security: [],
      response: { 200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } }, ...problemResponses(422) },
    },
  }, async (_request, reply) => {
    reply.type(registry.contentType)
    return registry.metrics()
  })
}

export default fp(metrics, { name: 'metrics', dependencies: ['store', 'docs'] })
