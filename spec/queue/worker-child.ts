/**
 * A queue worker in its own process, as the fault tests drive it: the library's `runWorker`, with its
 * events printed as JSON lines on stdout. With `--pause-after-first` it stops inside its first job
 * right after writing that job's first output, and stays there (holding the job, renewing its lock)
 * until it is killed: "a worker in the middle of a job", without a race.
 *
 * Usage: node --import tsx worker-child.ts REDIS_URL QUEUE LOCK_MS [--pause-after-first]
 */
import * as E from 'fp-ts/lib/Either.js'
import { runWorker } from '../../src/queue/index.js'

const [url = '', queue = '', lockMs = '2000', flag] = process.argv.slice(2)
const pause = flag === '--pause-after-first'
let paused = false
const say = (value: unknown): void => { process.stdout.write(`${JSON.stringify(value)}\n`) }

const worker = await runWorker(url, {
  queue,
  lockMs: Number(lockMs),
  progressMs: 1,
  onEvent: async (event) => {
    say(event)
    if (pause && !paused && event.type === 'input-done' && event.outcome.status === 'written') {
      paused = true
      say({ type: 'paused', pid: process.pid })
      await new Promise<never>(() => undefined)
    }
  },
})
if (E.isLeft(worker)) {
  say({ type: 'refused', message: worker.left.message })
  process.exit(2)
}
say({ type: 'ready', name: worker.right.name })
process.once('SIGTERM', () => { void worker.right.close() })
const why = await worker.right.stopped
say({ type: 'stopped', why })
process.exit(why.reason === 'closed' ? 0 : 2)
