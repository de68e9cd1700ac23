/**
 * All cores of one machine without Redis: a pool of worker threads (piscina), each with its own
 * model, running shards through the same runner as a single-process run. Decoding, the TTA kernels,
 * encoding and writing — single-threaded JavaScript in one process — then run on every core beside
 * onnxruntime's own threads. Node-only.
 *
 * @since 0.5.0
 */
import { Piscina } from 'piscina'
import type { PoolAnswer, PoolTask } from './pool-worker.js'

/** A pool of threads that run shards. @category model */
export interface ShardPool {
  readonly run: (task: PoolTask) => Promise<PoolAnswer>
  readonly close: () => Promise<void>
}

/**
 * Starts `threads` worker threads. From the TypeScript source (a checkout) the threads load it
 * through tsx, as the CLI does; from the build they load the JavaScript.
 * @example
 * import { shardPool } from 'tta-lens/queue'
 * const pool = shardPool(2)
 * const answer = await pool.run({ kind: 'run', spec: { kind: 'nonsense' }, inputs: [] })
 * assert.deepStrictEqual(answer, { ok: false, reason: "job spec: kind must be 'run' or 'eval', got \"nonsense\"" })
 * await pool.close()
 * @category constructors
 */
export const shardPool = (threads: number): ShardPool => {
  const fromSource = new URL(import.meta.url).pathname.endsWith('.ts')
  const pool = new Piscina<PoolTask, PoolAnswer>({
    filename: new URL(`./pool-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    // One shard per thread at a time: a thread's model call already keeps it busy.
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    // The loader by its own URL: `--import tsx` would be looked up from the working folder.
    ...(fromSource ? { execArgv: ['--import', import.meta.resolve('tsx')] } : {}),
  })
  return { run: (task) => pool.run(task), close: () => pool.destroy() }
}
