/**
 * Every failure the library reports, as data. Functions at the boundary return these inside an
 * fp-ts `Either`/`TaskEither` instead of throwing, so a caller can match on `_tag`.
 *
 * @since 0.1.0
 */

/** @category errors */
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

/** @category errors */
export type TtaError = ShapeError | ParamError | MergeError | UndoError | ModelError

/** @category constructors */
export const shapeError = (message: string): ShapeError => ({ _tag: 'ShapeError', message })
/** @category constructors */
export const paramError = (message: string): ParamError => ({ _tag: 'ParamError', message })
/** @category constructors */
export const mergeError = (message: string): MergeError => ({ _tag: 'MergeError', message })
/** @category constructors */
export const undoError = (message: string): UndoError => ({ _tag: 'UndoError', message })
/** @category constructors */
export const modelError = (message: string, cause?: unknown): ModelError =>
  cause === undefined ? { _tag: 'ModelError', message } : { _tag: 'ModelError', message, cause }

/**
 * Thrown only by {@link orThrow}, for scripts that prefer exceptions to `Either`.
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
