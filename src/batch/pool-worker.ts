/**
 * The body of each thread of the in-process pool ({@link ./pool.ts}): one shard per task, through a
 * {@link shardCache} that keeps the thread's model open between shards. Not a public entry.
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { decodeSpec } from './spec.js'
import { shardCache } from './shard.js'
import type { InputOutcome } from './files-run.js'
import type { PolicyCounts } from './eval-shards.js'
import type { OutputJob } from '../io/files.js'

/** A task posted to a thread: a run shard or an evaluation shard, its spec as plain data. @internal */
export type PoolTask =
  | { readonly kind: 'run'; readonly spec: unknown; readonly inputs: readonly OutputJob[] }
  | { readonly kind: 'eval'; readonly spec: unknown; readonly start: number; readonly end: number }

/** What a thread answers: outcomes or counts, or why the shard could not start. @internal */
export type PoolAnswer =
  | { readonly ok: true; readonly outcomes: readonly InputOutcome[] }
  | { readonly ok: true; readonly counts: readonly PolicyCounts[] }
  | { readonly ok: false; readonly reason: string }

const cache = shardCache()

const runTask = async (task: PoolTask): Promise<PoolAnswer> => {
  const spec = decodeSpec(task.spec)
  if (E.isLeft(spec)) return { ok: false, reason: spec.left.message }
  if (task.kind === 'run' && spec.right.kind === 'run') {
    const result = await cache.run({ spec: spec.right, inputs: task.inputs })
    return E.isLeft(result) ? { ok: false, reason: result.left.reason } : { ok: true, outcomes: result.right }
  }
  if (task.kind === 'eval' && spec.right.kind === 'eval') {
    const result = await cache.evaluate({ spec: spec.right, start: task.start, end: task.end })
    return E.isLeft(result) ? { ok: false, reason: result.left.reason } : { ok: true, counts: result.right }
  }
  return { ok: false, reason: `a ${task.kind} task holds a ${spec.right.kind} spec` }
}

export default runTask
