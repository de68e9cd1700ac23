/**
 * What the wrappers need of a searched TTA policy (see the `policy` namespace, which makes and
 * decodes them): its views as a product, its merge, and the model it was made for. A wrapper given
 * a policy instead of a product runs exactly those views with that merge, refuses a model or an
 * image the policy was not made for, and (for classification) returns probabilities calibrated
 * with the policy's temperature.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { policyError, type PolicyError } from '../errors.js'
import type { AnyFactor, Product } from '../algebra/product.js'
import type { Calibration } from '../merge/calibrate.js'
import type { MergeMode } from '../merge/merge.js'
import type { ViewPreparation } from '../merge/prepare.js'
import type { ModelSignature } from '../plan/plan.js'

/** A policy as the wrappers run it: views, merge, calibration, and the model it is for. @category model */
export interface RunnablePolicy {
  readonly _tag: 'Policy'
  readonly task: 'classification' | 'segmentation'
  /** The images the policy was made for, `[C, H, W]`, and the model's classes (output channels for segmentation). */
  readonly model: { readonly input: readonly [number, number, number]; readonly classes: number }
  /** The policy's views. */
  readonly product: Product<readonly AnyFactor[]>
  readonly merge: MergeMode
  readonly combine?: ViewPreparation
  /** Classification: how the merged prediction becomes calibrated probabilities. */
  readonly calibration?: Calibration
}

/** True for a value that looks like a policy (what a wrapper got instead of a product). @internal */
export const isPolicy = (value: unknown): value is RunnablePolicy =>
  typeof value === 'object' && value !== null && '_tag' in value && value._tag === 'Policy' && 'product' in value && 'model' in value

const show = (dims: readonly unknown[]): string => `[${dims.join(',')}]`

/**
 * Refuses a model whose declared signature contradicts the policy: another input shape or another
 * number of classes. Names that are not numbers (`'N'`, `'H'`) match anything.
 * @internal
 */
export const checkPolicyModel = (policy: RunnablePolicy, signature: ModelSignature | undefined): E.Either<PolicyError, void> => {
  const [, ...chw] = signature?.input ?? []
  const clash = chw.length === 3 && chw.some((d, i) => typeof d === 'number' && d !== policy.model.input[i])
  if (clash) {
    return E.left(policyError('model', `the policy was made for a model of input [N,${policy.model.input.join(',')}], but this model takes [${signature?.input?.join(',') ?? ''}]`))
  }
  const classes = signature?.output?.[1]
  if (typeof classes === 'number' && classes !== policy.model.classes) {
    return E.left(policyError('model', `the policy was made for a model with ${policy.model.classes} classes, but this model outputs ${classes} (output ${show(signature?.output ?? [])})`))
  }
  return E.right(undefined)
}

/** Refuses an image the policy was not made for. @internal */
export const checkPolicyImage = (policy: RunnablePolicy, shape: readonly number[]): E.Either<PolicyError, void> =>
  shape.slice(1).every((d, i) => d === policy.model.input[i])
    ? E.right(undefined)
    : E.left(policyError('model', `the policy was made for images of [${policy.model.input.join(',')}] (C,H,W), but the image is ${show(shape)}`))

/** Refuses a prediction with another number of classes than the policy's model. @internal */
export const checkPolicyOutput = (policy: RunnablePolicy, shape: readonly number[]): E.Either<PolicyError, void> =>
  shape[1] === policy.model.classes
    ? E.right(undefined)
    : E.left(policyError('model', `the policy was made for a model with ${policy.model.classes} classes, but this model returned ${show(shape)}`))
