/**
 * Every failure the library reports, as data. Functions at the boundary return these inside an
 * fp-ts `Either`/`TaskEither` instead of throwing, so a caller can match on `_tag`.
 *
 * @since 0.1.0
 */

/** A tensor whose shape or data length does not match what was declared or expected. @category errors */
export interface ShapeError {
  readonly _tag: 'ShapeError'
  readonly message: string
}

/** A transform or merge parameter that cannot be honoured (a scale ≤ 0, an angle that is not a right angle). @category errors */
export interface ParamError {
  readonly _tag: 'ParamError'
  readonly message: string
}

/** A merge that cannot produce a meaningful answer (gmean of a negative value, NaN in a view). @category errors */
export interface MergeError {
  readonly _tag: 'MergeError'
  readonly message: string
}

/** A target that a transform cannot put back into the input frame (a crop for a full-size mask). @category errors */
export interface UndoError {
  readonly _tag: 'UndoError'
  readonly message: string
}

/** The user's model threw, rejected, or returned something that is not a tensor of the expected rank. @category errors */
export interface ModelError {
  readonly _tag: 'ModelError'
  readonly message: string
  readonly cause?: unknown
}

/** Detections that are not valid boxes (a NaN corner, x2 < x1, a score outside [0, 1], lists of different lengths). @category errors */
export interface BoxError {
  readonly _tag: 'BoxError'
  readonly message: string
}

/** Why a TTA policy cannot be made or used (see {@link PolicyError}). @category errors */
export type PolicyProblem =
  | 'corrupt'     // a policy file that is not valid JSON or not a policy
  | 'version'     // a policy written by a newer format version than this library reads
  | 'model'       // a policy made for another model (input shape or class count differ)
  | 'selection'   // a selection set the search cannot use (a class missing, labels out of range)
  | 'candidate'   // a candidate view that fails or gives non-finite predictions on some images
  | 'budget'      // a search budget that allows nothing (0 views) or is not a number

/**
 * A TTA policy that cannot be made or used: a corrupt or newer policy file, one made for another
 * model, a selection set or candidate pool the search cannot work with. `problem` says which.
 * @category errors
 */
export interface PolicyError {
  readonly _tag: 'PolicyError'
  readonly problem: PolicyProblem
  readonly message: string
}

/**
 * A size, count, thread number or memory estimate over a stated limit (see `limits` and
 * docs/reliability.md), refused before any work or allocation. `limit` names the limit, `value` is
 * what was asked for and `max` the most allowed.
 * @category errors
 */
export interface LimitError {
  readonly _tag: 'LimitError'
  readonly message: string
  readonly limit: string
  readonly value: number
  readonly max: number
}

/** The JavaScript engine could not allocate a buffer the run needed (a `RangeError` from a typed array). @category errors */
export interface AllocationError {
  readonly _tag: 'AllocationError'
  readonly message: string
  /** Bytes asked for, when known. */
  readonly bytes?: number
}

/** A run or a model call stopped by its `timeout` or its `AbortSignal`. @category errors */
export interface CancelledError {
  readonly _tag: 'CancelledError'
  readonly message: string
  readonly reason: 'timeout' | 'aborted'
}

/**
 * A NaN or an infinity where a finite number is required: in an input, in a view fed to the model,
 * in a model's output, in a merged result or in a metric. `where` names the place (`input`,
 * `view 'HorizontalFlip(true)'`, `merged result`), `index` the flat index of the first bad value.
 * @category errors
 */
export interface NonFiniteError {
  readonly _tag: 'NonFiniteError'
  readonly message: string
  readonly where: string
  readonly index: number
  readonly value: number
}

/**
 * A file the library may not read or write as asked: two inputs that would write the same output,
 * a read-only output, a failed write, an output folder that is a file. `path` is the file concerned.
 * @category errors
 */
export interface FileError {
  readonly _tag: 'FileError'
  readonly message: string
  readonly path: string
  readonly reason: 'collision' | 'read-only' | 'write-failed' | 'not-a-folder' | 'unreadable'
}

/** Every error the library returns; match on `_tag` to handle each kind. @category errors */
export type TtaError =
  | ShapeError | ParamError | MergeError | UndoError | ModelError | BoxError
  | LimitError | AllocationError | CancelledError | NonFiniteError | FileError | PolicyError

/**
 * Every `_tag` of {@link TtaError}, for code that must tell a library error from anything else
 * (a test, a job queue deciding whether to retry).
 * @example
 * import { errorTags, isTtaError, shapeError } from 'tta-lens'
 * assert.ok(errorTags.includes('LimitError'))
 * assert.ok(isTtaError(shapeError('no')))
 * assert.ok(!isTtaError(new Error('no')))
 * @category errors
 */
export const errorTags: readonly TtaError['_tag'][] = [
  'ShapeError', 'ParamError', 'MergeError', 'UndoError', 'ModelError', 'BoxError',
  'LimitError', 'AllocationError', 'CancelledError', 'NonFiniteError', 'FileError', 'PolicyError',
]

/**
 * `true` for a value shaped as a {@link TtaError}: an object with a known `_tag` and a string `message`.
 * @example
 * import { isTtaError, limitError } from 'tta-lens'
 * assert.ok(isTtaError(limitError('threads', 1e5, 256, 'too many threads')))
 * assert.ok(!isTtaError({ _tag: 'Oops', message: '' }))
 * @category errors
 */
export const isTtaError = (value: unknown): value is TtaError =>
  typeof value === 'object' && value !== null && '_tag' in value && 'message' in value &&
  typeof value.message === 'string' && errorTags.some((tag) => tag === value._tag)

/**
 * Builds a {@link ShapeError}. Use it in your own adapters (a preprocessing step, a model loader)
 * so that their failures travel in the same `Either` and match on the same `_tag` as the library's.
 * @example
 * import { shapeError, type TtaError } from 'tta-lens'
 * const e: TtaError = shapeError('expected 784 pixels, got 783')
 * assert.deepStrictEqual(e, { _tag: 'ShapeError', message: 'expected 784 pixels, got 783' })
 * @category constructors
 */
export const shapeError = (message: string): ShapeError => ({ _tag: 'ShapeError', message })
/**
 * Builds a {@link ParamError}, for a parameter your own code validates before it reaches the
 * library (a scale read from a config file, say).
 * @example
 * import { paramError } from 'tta-lens'
 * const e = paramError('scale must be > 0, got -1')
 * assert.strictEqual(e._tag, 'ParamError')
 * assert.strictEqual(e.message, 'scale must be > 0, got -1')
 * @category constructors
 */
export const paramError = (message: string): ParamError => ({ _tag: 'ParamError', message })
/**
 * Builds a {@link MergeError}, for a custom merge step that meets values it cannot combine.
 * @example
 * import { mergeError } from 'tta-lens'
 * assert.deepStrictEqual(mergeError('NaN in view 3'), { _tag: 'MergeError', message: 'NaN in view 3' })
 * @category constructors
 */
export const mergeError = (message: string): MergeError => ({ _tag: 'MergeError', message })
/**
 * Builds an {@link UndoError}, for a custom step that cannot map a prediction back to the input frame.
 * @example
 * import { undoError } from 'tta-lens'
 * assert.deepStrictEqual(undoError('a crop has no mask undo'), { _tag: 'UndoError', message: 'a crop has no mask undo' })
 * @category constructors
 */
export const undoError = (message: string): UndoError => ({ _tag: 'UndoError', message })
/**
 * Builds a {@link ModelError}, keeping what the model threw as `cause` so it can be inspected later;
 * without a cause the key is absent (not `undefined`), which matters under `exactOptionalPropertyTypes`.
 * @example
 * import { modelError } from 'tta-lens'
 * const boom = new Error('CUDA out of memory')
 * assert.strictEqual(modelError('the model failed', boom).cause, boom)
 * assert.ok(!('cause' in modelError('the model failed')))
 * @category constructors
 */
export const modelError = (message: string, cause?: unknown): ModelError =>
  cause === undefined ? { _tag: 'ModelError', message } : { _tag: 'ModelError', message, cause }

/**
 * Builds a {@link BoxError}, for your own checks on detections (a truth file, a detector adapter).
 * @example
 * import { boxError } from 'tta-lens'
 * assert.deepStrictEqual(boxError('box 3 has x2 < x1'), { _tag: 'BoxError', message: 'box 3 has x2 < x1' })
 * @category constructors
 */
export const boxError = (message: string): BoxError => ({ _tag: 'BoxError', message })

/**
 * Builds a {@link LimitError}: `limit` names the limit, `value` is what was asked for, `max` the most allowed.
 * @example
 * import { limitError } from 'tta-lens'
 * const e = limitError('threads', 100000, 256, 'threads must be at most 256, got 100000')
 * assert.deepStrictEqual([e._tag, e.limit, e.value, e.max], ['LimitError', 'threads', 100000, 256])
 * @category constructors
 */
export const limitError = (limit: string, value: number, max: number, message: string): LimitError =>
  ({ _tag: 'LimitError', message, limit, value, max })

/**
 * Builds an {@link AllocationError}; without `bytes` the key is absent.
 * @example
 * import { allocationError } from 'tta-lens'
 * assert.strictEqual(allocationError('cannot allocate 12.0 GiB', 12 * 2 ** 30).bytes, 12 * 2 ** 30)
 * assert.ok(!('bytes' in allocationError('out of memory')))
 * @category constructors
 */
export const allocationError = (message: string, bytes?: number): AllocationError =>
  bytes === undefined ? { _tag: 'AllocationError', message } : { _tag: 'AllocationError', message, bytes }

/**
 * Builds a {@link CancelledError}.
 * @example
 * import { cancelledError } from 'tta-lens'
 * assert.strictEqual(cancelledError('timeout', 'the run took longer than 50 ms').reason, 'timeout')
 * @category constructors
 */
export const cancelledError = (reason: 'timeout' | 'aborted', message: string): CancelledError =>
  ({ _tag: 'CancelledError', message, reason })

/**
 * Builds a {@link NonFiniteError} whose message names the place and the index.
 * @example
 * import { nonFiniteError } from 'tta-lens'
 * const e = nonFiniteError("view 'identity'", 3, Number.NaN)
 * assert.strictEqual(e.message, "view 'identity' has NaN at index 3")
 * assert.strictEqual(nonFiniteError('merged result', 0, -Infinity).message, 'merged result has -Infinity at index 0')
 * @category constructors
 */
export const nonFiniteError = (where: string, index: number, value: number, note = ''): NonFiniteError =>
  ({ _tag: 'NonFiniteError', message: `${where} has ${String(value)} at index ${index}${note}`, where, index, value })

/**
 * Builds a {@link FileError}.
 * @example
 * import { fileError } from 'tta-lens'
 * const e = fileError('read-only', 'out/a.json', 'out/a.json is read-only; left unchanged')
 * assert.deepStrictEqual([e._tag, e.reason, e.path], ['FileError', 'read-only', 'out/a.json'])
 * @category constructors
 */
export const fileError = (reason: FileError['reason'], path: string, message: string): FileError =>
  ({ _tag: 'FileError', message, path, reason })

/**
 * Builds a {@link PolicyError}, for your own checks on a policy or a search (a policy read from a
 * database, a selection set assembled by hand).
 * @example
 * import { policyError } from 'tta-lens'
 * const e = policyError('model', 'the policy is for [1,28,28] images with 10 classes, the model takes [3,32,32]')
 * assert.deepStrictEqual([e._tag, e.problem], ['PolicyError', 'model'])
 * @category constructors
 */
export const policyError = (problem: PolicyProblem, message: string): PolicyError => ({ _tag: 'PolicyError', problem, message })

/**
 * Thrown only by {@link orThrow}, for scripts that prefer exceptions to `Either`. The original
 * error is kept as `error`, so a `catch` can still match on its `_tag`.
 * @example
 * import { orThrow, TtaException, tensor } from 'tta-lens'
 * try {
 *   orThrow(tensor([2, 2], [1, 2, 3]))
 *   assert.fail('a 3-value tensor of shape [2,2] must not be built')
 * } catch (e) {
 *   assert.ok(e instanceof TtaException)
 *   assert.strictEqual(e.error._tag, 'ShapeError')
 *   assert.match(e.message, /^ShapeError: shape \[2,2\] needs 4 values/)
 * }
 * @category errors
 */
export class TtaException extends Error {
  readonly error: TtaError
  constructor(error: TtaError) {
    super(`${error._tag}: ${error.message}`)
    this.name = 'TtaException'
    this.error = error
  }
}

/**
 * Unwraps an `Either`, throwing a {@link TtaException} on `Left` — for scripts and examples that
 * prefer exceptions. Library code never calls it.
 * @example
 * import { orThrow, tensor } from 'tta-lens'
 * const t = orThrow(tensor([2], [1, 2]))
 * assert.deepStrictEqual(Array.from(t.data), [1, 2])
 * assert.throws(() => orThrow(tensor([2], [1])), /ShapeError/)
 * @category destructors
 */
export const orThrow = <A>(either: { readonly _tag: 'Left'; readonly left: TtaError } | { readonly _tag: 'Right'; readonly right: A }): A => {
  if (either._tag === 'Left') throw new TtaException(either.left)
  return either.right
}
