import pino, { type Logger } from 'pino'

/**
 * The process logger: JSON lines (pino) by default, human-readable when stderr is a
 * terminal, one line an entry (a request's line says its method, URL, status and time in
 * the message, so those fields are not repeated). Logs go to stderr so that stdout stays for what a command prints as its result.
 */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY)
  if (pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,method,url,statusCode,ms', singleLine: true } } })
  }
  return pino({ level }, pino.destination({ fd: 2, sync: true }))
}
