/**
 * The TTA policies the text-detection measurements compare (tools/textdet/collect-views.ts,
 * tools/textdet/box-fusion.ts): the seven — none, hflip, vflip, the 1.5× single view,
 * hflip at 1.5×, multiscale 0.75/1/1.25 and d4 — and three more that box fusion makes worth trying
 * (the plain and the 1.5× view together; the flips and d4 at 1.5×). Each is a product built for an
 * image size (the 1.5× views resize to 1.5·H × 1.5·W, bilinear; every side of the evaluation set
 * is a multiple of 128, so every view stays a multiple of 32, which the detector needs).
 */
import * as E from 'fp-ts/lib/Either.js'
import { aliases, identity, product, transforms as T, type AnyFactor, type Product, type TtaError, type ViewSpec } from '../../src/index.js'

/** A policy: its name in tables and how to build its product for an image of `h`×`w`. */
export interface TextPolicy {
  readonly name: string
  /** The seven, or one added for box fusion. */
  readonly extra: boolean
  readonly product: (h: number, w: number) => E.Either<TtaError, Product<readonly AnyFactor[]>>
}

/** The map merges of the pixel path. */
export type MapMerge = 'mean' | 'gmean' | 'max'
export const mapMerges: readonly MapMerge[] = ['mean', 'gmean', 'max']

const at15 = (h: number, w: number) => T.resize([[Math.round(h * 1.5), Math.round(w * 1.5)]], { interpolation: 'bilinear' })

export const textPolicies: readonly TextPolicy[] = [
  { name: 'none', extra: false, product: () => E.right(identity) },
  { name: 'hflip', extra: false, product: () => E.right(aliases.hflip()) },
  { name: 'vflip', extra: false, product: () => E.right(aliases.vflip()) },
  { name: '1.5×', extra: false, product: (h, w) => E.Functor.map(at15(h, w), (r) => product(r)) },
  { name: 'hflip at 1.5×', extra: false, product: (h, w) => E.Functor.map(at15(h, w), (r) => product(r, T.hflip())) },
  { name: 'multiscale 0.75/1/1.25', extra: false, product: () => aliases.multiscale([0.75, 1.25], 'bilinear') },
  { name: 'd4', extra: false, product: () => E.right(aliases.d4()) },
  {
    name: '1× + 1.5×', extra: true,
    product: (h, w) => E.Functor.map(T.resize([[Math.round(h * 1.5), Math.round(w * 1.5)]], { interpolation: 'bilinear', originalSize: [h, w] }), (r) => product(r)),
  },
  { name: 'flip at 1.5×', extra: true, product: (h, w) => E.Functor.map(at15(h, w), (r) => product(r, T.hflip(), T.vflip())) },
  { name: 'd4 at 1.5×', extra: true, product: (h, w) => E.Functor.map(at15(h, w), (r) => product(r, T.hflip(), T.quarterTurns([0, 90, 180, 270]))) },
]

/** Views with the same simplified steps show the model the same pixels: one key, one model call. */
export const viewKey = (spec: ViewSpec): string => JSON.stringify(spec.steps)
