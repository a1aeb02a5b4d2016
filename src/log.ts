import pino, { type Logger } from 'pino'

/**
 * How pino-pretty writes a terminal's log: one line an entry. A request's entry says its
 * method, URL, status and time in the message, so those fields are not repeated.
 */
export const PRETTY_OPTIONS = { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,method,url,statusCode,ms', singleLine: true }

/**
 * The process logger: JSON lines (pino) by default, human-readable when stderr is a
 * terminal. Logs go to stderr so that stdout stays for what a command prints as its result.
 */
export function createLogger(level: string, options: { pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY)
  if (pretty) {
    return pino({ level, transport: { target: 'pino-pretty', options: { destination: 2, ...PRETTY_OPTIONS } } })
  }
  return pino({ level }, pino.destination({ fd: 2, sync: true }))
}
