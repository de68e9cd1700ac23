/**
 * Bounding a run in time: an optional deadline for the whole run, one for each model call, and an
 * `AbortSignal`. A model promise that never settles can only be abandoned, not stopped (a
 * JavaScript promise has no cancel), so the run returns a `CancelledError` and drops it.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { cancelledError, type CancelledError } from '../errors.js'

/** When to give up: the whole run after `timeout` ms, one model call after `modelTimeout` ms, or when `signal` aborts. @category model */
export interface CancelOptions {
  readonly timeout?: number
  readonly modelTimeout?: number
  readonly signal?: AbortSignal
}

/** A run's cancellation: checked between steps, and raced against each model call. @category model */
export interface Cancellation {
  /** Left once the run's deadline has passed or its signal aborted. */
  readonly check: () => E.Either<CancelledError, void>
  /** Waits for `work` unless the run's deadline, the call's own timeout or the signal comes first. */
  readonly race: <A>(work: Promise<A>, what: string) => Promise<E.Either<CancelledError, A>>
}

const aborted = (what: string): CancelledError => cancelledError('aborted', `${what} was aborted`)

/**
 * Starts the clock for a run.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { cancellation } from 'tta-lens'
 * const never = new Promise<number>(() => {})
 * const timed = await cancellation({ modelTimeout: 20 }).race(never, 'the model call')
 * assert.ok(E.isLeft(timed) && timed.left.message === 'the model call did not finish within 20 ms')
 * const controller = new AbortController()
 * controller.abort()
 * assert.ok(E.isLeft(cancellation({ signal: controller.signal }).check()))
 * @category constructors
 */
export const cancellation = (options: CancelOptions = {}): Cancellation => {
  const started = Date.now()
  const { timeout, modelTimeout, signal } = options
  const check = (): E.Either<CancelledError, void> => {
    if (signal?.aborted === true) return E.left(aborted('the run'))
    if (timeout !== undefined && Date.now() - started >= timeout) return E.left(cancelledError('timeout', `the run did not finish within ${timeout} ms`))
    return E.right(undefined)
  }
  const race = async <A>(work: Promise<A>, what: string): Promise<E.Either<CancelledError, A>> => {
    const before = check()
    if (E.isLeft(before)) return before
    if (timeout === undefined && modelTimeout === undefined && signal === undefined) return E.right(await work)
    const runLeft = timeout === undefined ? Number.POSITIVE_INFINITY : timeout - (Date.now() - started)
    const callLeft = modelTimeout ?? Number.POSITIVE_INFINITY
    const wait = Math.min(runLeft, callLeft)
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    const stop = new Promise<E.Either<CancelledError, A>>((resolve) => {
      if (Number.isFinite(wait)) {
        timer = setTimeout(() => resolve(E.left(callLeft <= runLeft
          ? cancelledError('timeout', `${what} did not finish within ${modelTimeout} ms`)
          : cancelledError('timeout', `the run did not finish within ${timeout} ms`))), Math.max(0, wait))
      }
      if (signal !== undefined) {
        onAbort = () => resolve(E.left(aborted(what)))
        signal.addEventListener('abort', onAbort, { once: true })
      }
    })
    const done = work.then((a): E.Either<CancelledError, A> => E.right(a))
    // An abandoned call that rejects later must not become an unhandled rejection (which ends the process).
    done.catch(() => undefined)
    try {
      return await Promise.race([done, stop])
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
  }
  return { check, race }
}
