import { constants } from 'node:os'

type StopSignal = 'SIGINT' | 'SIGTERM'

/**
 * The first SIGINT or SIGTERM stops an ETL run between objects (those in flight commit,
 * so no work is lost) and the command then exits 128 + the signal's number; a second one
 * exits at once, which is safe too: an object's transaction that does not commit leaves
 * nothing behind.
 */
export function stopOnSignal(logger: { warn(msg: string): void }) {
  const controller = new AbortController()
  let received: StopSignal | undefined
  const exitCode = (signal: StopSignal) => 128 + constants.signals[signal]
  const onSignal = (signal: StopSignal) => {
    if (received) process.exit(exitCode(signal))
    received = signal
    logger.warn(`${signal}: stopping after the objects in flight; send it again to stop at once`)
    controller.abort()
  }
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, () => onSignal(signal)] as const)
  for (const [signal, handler] of handlers) process.on(signal, handler)
  return {
    signal: controller.signal,
    exitCode: () => (received ? exitCode(received) : undefined),
    dispose: () => { for (const [signal, handler] of handlers) process.off(signal, handler) },
  }
}
