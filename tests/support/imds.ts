import { listenLoopback } from './loopback.ts'

export interface ImdsServer {
  /** For `AWS_EC2_METADATA_SERVICE_ENDPOINT`. */
  endpoint: string
  /** Requests received, as `METHOD path`. */
  requests: string[]
  /** When the first request arrived (ms since the epoch), undefined before. */
  firstAt(): number | undefined
  close(): Promise<void>
}

/**
 * A stand-in for the EC2 instance metadata service on loopback, speaking IMDSv2 (token,
 * role name, role credentials) when `role` is given, or accepting requests and never
 * answering (an address where nothing responds, as off AWS) when it is not.
 */
export async function startImds(options: { role?: string }): Promise<ImdsServer> {
  const requests: string[] = []
  let first: number | undefined
  const server = await listenLoopback((req, res) => {
    first ??= Date.now()
    requests.push(`${req.method} ${req.url}`)
    if (!options.role) return
    const path = req.url ?? ''
    if (req.method === 'PUT' && path === '/latest/api/token') return void res.end('test-token')
    if (path === '/latest/meta-data/iam/security-credentials/') return void res.end(options.role)
    if (path === `/latest/meta-data/iam/security-credentials/${options.role}`) {
      return void res.end(JSON.stringify({
        Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: 'role-key', SecretAccessKey: 'role-secret', Token: 'role-token',
        Expiration: new Date(Date.now() + 3_600_000).toISOString(), LastUpdated: new Date().toISOString(),
      }))
    }
    res.statusCode = 404
    res.end()
  })
  return {
    endpoint: server.endpoint,
    requests,
    firstAt: () => first,
    close: () => server.close(),
  }
}
