/**
 * Reaching Redis: a `redis://` URL checked and taken apart, and a first connection that says in one
 * line what is wrong — nothing listening, a password missing or refused, a server too old for
 * BullMQ — before any job is submitted or taken. Node-only.
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { Redis } from 'ioredis'

/**
 * A queue-side failure, in one line: the URL does not parse, Redis cannot be reached or refuses the
 * credentials, the queue holds another run's jobs or jobs of another tta-lens version, Redis went
 * away for longer than the producer waits, or a job failed.
 * @category model
 */
export interface QueueError {
  readonly _tag: 'QueueError'
  readonly reason: 'bad-url' | 'unreachable' | 'auth' | 'foreign-run' | 'version' | 'lost-connection' | 'job' | 'bad-option'
  readonly message: string
}

/**
 * Builds a {@link QueueError}.
 * @example
 * import { queueError } from 'tta-lens/queue'
 * assert.deepStrictEqual(queueError('auth', 'wrong password'), { _tag: 'QueueError', reason: 'auth', message: 'wrong password' })
 * @category constructors
 */
export const queueError = (reason: QueueError['reason'], message: string): QueueError => ({ _tag: 'QueueError', reason, message })

/** Where Redis is, as ioredis takes it, and the URL to show (without its password). @category model */
export interface RedisTarget {
  readonly host: string
  readonly port: number
  readonly username?: string
  readonly password?: string
  readonly db?: number
  readonly tls?: boolean
  /** The URL with any password masked, for messages. */
  readonly shown: string
}

/**
 * Takes a `redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS) URL apart.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { parseRedisUrl } from 'tta-lens/queue'
 * const target = parseRedisUrl('redis://:s3cret@127.0.0.1:6390/2')
 * assert.ok(E.isRight(target))
 * assert.deepStrictEqual([target.right.host, target.right.port, target.right.password, target.right.db, target.right.shown],
 *   ['127.0.0.1', 6390, 's3cret', 2, 'redis://:***@127.0.0.1:6390/2'])
 * const bad = parseRedisUrl('http://127.0.0.1')
 * assert.ok(E.isLeft(bad) && bad.left.message === "--queue http://127.0.0.1: expected redis://[user:password@]host[:port][/db]")
 * @category constructors
 */
export const parseRedisUrl = (url: string): E.Either<QueueError, RedisTarget> => {
  const expected = `--queue ${url}: expected redis://[user:password@]host[:port][/db]`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return E.left(queueError('bad-url', expected))
  }
  if ((parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') return E.left(queueError('bad-url', expected))
  const port = parsed.port === '' ? 6379 : Number(parsed.port)
  const dbText = parsed.pathname.replace(/^\//, '')
  const db = dbText === '' ? undefined : Number(dbText)
  if (db !== undefined && !(Number.isInteger(db) && db >= 0)) return E.left(queueError('bad-url', `--queue ${url}: the database must be a number, got '${dbText}'`))
  const username = decodeURIComponent(parsed.username)
  const password = decodeURIComponent(parsed.password)
  const shownAuth = password === '' ? (username === '' ? '' : `${username}@`) : `${username}:***@`
  return E.right({
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
    ...(db === undefined ? {} : { db }),
    ...(parsed.protocol === 'rediss:' ? { tls: true } : {}),
    shown: `${parsed.protocol}//${shownAuth}${parsed.host}${dbText === '' ? '' : `/${dbText}`}`,
  })
}

/** ioredis options for a target; BullMQ's workers need `maxRetriesPerRequest: null` (retry until Redis is back). @internal */
export const connectionOptions = (target: RedisTarget, extra: { readonly retry?: boolean } = {}) => ({
  host: target.host,
  port: target.port,
  ...(target.username === undefined ? {} : { username: target.username }),
  ...(target.password === undefined ? {} : { password: target.password }),
  ...(target.db === undefined ? {} : { db: target.db }),
  ...(target.tls === true ? { tls: {} } : {}),
  maxRetriesPerRequest: null,
  // Reconnect every 0.1–1 s while Redis is away (a restart); callers decide how long to wait.
  retryStrategy: extra.retry === false ? () => null : (times: number) => Math.min(100 * times, 1000),
})

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** What a connection error means, in words. */
const explain = (target: RedisTarget, e: unknown): QueueError => {
  const text = describe(e)
  if (/WRONGPASS|invalid password|invalid username-password/i.test(text)) return queueError('auth', `Redis at ${target.shown} refused the password (${text.replace(/\.$/, '')})`)
  if (/NOAUTH/i.test(text)) return queueError('auth', `Redis at ${target.shown} needs a password: pass it in the URL, redis://:PASSWORD@${target.host}:${target.port}`)
  if (/ECONNREFUSED/.test(text)) return queueError('unreachable', `cannot reach Redis at ${target.shown}: connection refused (is redis-server running there?)`)
  if (/ETIMEDOUT|timed? ?out/i.test(text)) return queueError('unreachable', `cannot reach Redis at ${target.shown}: no answer in time`)
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return queueError('unreachable', `cannot reach Redis at ${target.shown}: unknown host ${target.host}`)
  return queueError('unreachable', `cannot reach Redis at ${target.shown}: ${text}`)
}

/**
 * Connects once, without retrying, and asks Redis for its version: a typed error that names the
 * problem if it cannot be reached, wants a password, refuses the one given, or is older than the
 * Redis 5 BullMQ needs.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { checkRedis, parseRedisUrl } from 'tta-lens/queue'
 * const target = parseRedisUrl('redis://127.0.0.1:1')   // nothing listens on port 1
 * assert.ok(E.isRight(target))
 * const checked = await checkRedis(target.right)
 * assert.ok(E.isLeft(checked) && checked.left.message === 'cannot reach Redis at redis://127.0.0.1:1: connection refused (is redis-server running there?)')
 * @category constructors
 */
export const checkRedis = async (target: RedisTarget, timeoutMs = 5000): Promise<E.Either<QueueError, { readonly version: string }>> => {
  const client = new Redis({ ...connectionOptions(target, { retry: false }), lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: timeoutMs })
  // ioredis reports the cause (refused, NOAUTH, WRONGPASS) as an event and rejects with "Connection is closed".
  let cause: unknown
  client.on('error', (e: unknown) => { cause ??= e })
  try {
    await client.connect()
    const info = await client.info('server')
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0'
    if (Number(version.split('.')[0]) < 5) return E.left(queueError('unreachable', `Redis at ${target.shown} is version ${version}; BullMQ needs 5 or later`))
    return E.right({ version })
  } catch (e) {
    return E.left(explain(target, cause ?? e))
  } finally {
    client.disconnect()
  }
}
