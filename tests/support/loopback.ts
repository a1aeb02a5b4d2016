import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string
  /** Destroys open connections (a stalled reply included), then stops listening. */
  close(): Promise<void>
}

/** An HTTP server on a free loopback port whose `close` never waits on a kept-alive or stalled socket. */
export async function listenLoopback(handler: RequestListener): Promise<LoopbackServer> {
  const sockets = new Set<Socket>()
  const server = createServer(handler)
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => {
      for (const socket of sockets) socket.destroy()
      server.close((err) => (err ? reject(err) : resolve()))
    }),
  }
}
