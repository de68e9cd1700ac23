/**
 * Looking at a queue and emptying it: what the `tta-lens queue status` and `tta-lens queue clear`
 * commands do. Node-only.
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { checkRedis, connectionOptions, parseRedisUrl, queueError, type QueueError } from './redis.js'
import { defaultQueueName, queuePrefix, runKey } from './jobs.js'

/** A queue's jobs by state, and the run it serves. @category model */
export interface QueueStatus {
  readonly queue: string
  readonly run?: string
  readonly counts: Readonly<Record<string, number>>
}

const withQueue = async <A>(url: string, name: string | undefined, f: (queue: Queue, client: Redis, name: string) => Promise<A>): Promise<E.Either<QueueError, A>> => {
  const target = parseRedisUrl(url)
  if (E.isLeft(target)) return target
  const reachable = await checkRedis(target.right)
  if (E.isLeft(reachable)) return reachable
  const queueName = name ?? defaultQueueName
  const queue = new Queue(queueName, { connection: connectionOptions(target.right), prefix: queuePrefix })
  const client = new Redis(connectionOptions(target.right))
  queue.on('error', () => undefined)
  client.on('error', () => undefined)
  try {
    return E.right(await f(queue, client, queueName))
  } catch (e) {
    return E.left(queueError('unreachable', `queue '${queueName}' at ${target.right.shown}: ${e instanceof Error ? e.message : String(e)}`))
  } finally {
    await queue.close().catch(() => undefined)
    client.disconnect()
  }
}

/**
 * A queue's job counts by state and the run it serves.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { queueStatus } from 'tta-lens/queue'
 * const status = await queueStatus('redis://127.0.0.1:1')
 * assert.ok(E.isLeft(status) && status.left.reason === 'unreachable')
 * @category destructors
 */
export const queueStatus = (url: string, name?: string): Promise<E.Either<QueueError, QueueStatus>> =>
  withQueue(url, name, async (queue, client, queueName) => {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed')
    const run = await client.hget(runKey(queueName), 'description')
    return { queue: queueName, counts, ...(run === null ? {} : { run }) }
  })

/**
 * Removes every job of a queue (waiting, running, finished) and its run record: for a queue left
 * with another run's jobs. Workers serving it lose their current job.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { clearQueue } from 'tta-lens/queue'
 * const cleared = await clearQueue('redis://127.0.0.1:1')
 * assert.ok(E.isLeft(cleared) && cleared.left.reason === 'unreachable')
 * @category destructors
 */
export const clearQueue = (url: string, name?: string): Promise<E.Either<QueueError, void>> =>
  withQueue(url, name, async (queue, client, queueName) => {
    await queue.obliterate({ force: true })
    await client.del(runKey(queueName))
  })
