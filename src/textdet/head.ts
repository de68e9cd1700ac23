/**
 * The DB detection head: what turns a text detector that outputs a probability map (PP-OCR's DB
 * models, `[N, 1, H, W]` in the input's frame) into a detection model for `wrap.detection` — each
 * view padded to the multiple of 32 such networks need, its map cropped back to the view and
 * decoded by PP-OCR's post-processing (`dbDetections`: threshold, components, box score, unclip).
 * The CLI selects it with `--head db`, or on its own for a model whose output is `[N, 1, H, W]`.
 *
 * Padding per view (not once per image) is what lets a view of any size reach the network: a
 * 1.5× view of a 100×100 image is 150×150 and is padded to 160×160, its boxes then lie in the 150×150
 * view and map back exactly. The padding is zeros after normalisation (the mean colour), as
 * `textdet.preprocess` pads.
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, shapeError, TtaException, type ParamError } from '../errors.js'
import { decodeWith, showValue, strictObject } from '../guard/decode.js'
import { checkElements } from '../guard/limits.js'
import type { ModelSignature } from '../plan/plan.js'
import type { Shape } from '../tensor/shape.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'
import { detector, type DetectionModel } from '../wrapper/detection.js'
import { decodeOutput, type Callable, type ModelExtra, type ModelInput, type ModelOutput } from '../wrapper/model.js'
import { signatureOf } from '../wrapper/execute.js'
import { dbDetections, type BoxOptions } from './postprocess.js'
import { roundUp } from './preprocess.js'

/** The DB head's settings: PP-OCR's post-processing options, and the multiple each view is padded to. @category model */
export interface DbHeadOptions extends Omit<BoxOptions, 'size'> {
  /** Pad each view's height and width up to a multiple of this (default 32; 1 never pads). */
  readonly multiple?: number
  /** The model output holding the map, when the model returns a record of tensors. */
  readonly outputKey?: string
}

const inRange = (name: string, lo: number, hi: number, open = false): t.Type<number, number, unknown> => new t.Type<number, number, unknown>(
  name,
  (u): u is number => typeof u === 'number' && (open ? u > lo : u >= lo) && u <= hi,
  (u, c) => (typeof u === 'number' && (open ? u > lo : u >= lo) && u <= hi ? t.success(u)
    : t.failure(u, c, `expected a number in ${open ? '(' : '['}${lo}, ${hi}], got ${showValue(u)}`)),
  t.identity,
)
const wholeIn = (name: string, lo: number, hi: number): t.Type<number, number, unknown> => new t.Type<number, number, unknown>(
  name,
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= lo && u <= hi,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= lo && u <= hi ? t.success(u) : t.failure(u, c, `expected a whole number from ${lo} to ${hi}, got ${showValue(u)}`)),
  t.identity,
)

/**
 * The DB head's options as JSON or flags give them, checked: thresholds in [0, 1], an unclip ratio
 * in (0, 10], whole minimum sizes, connectivity 4 or 8, a padding multiple from 1 to 1024.
 * @category model
 */
export const DbHeadOptionsCodec = strictObject('db head options', {}, {
  threshold: inRange('threshold', 0, 1),
  boxThreshold: inRange('boxThreshold', 0, 1),
  minArea: wholeIn('minArea', 0, 1 << 30),
  minSide: inRange('minSide', 0, 1 << 20),
  unclipRatio: inRange('unclipRatio', 0, 10, true),
  connectivity: t.union([t.literal(4), t.literal(8)]),
  multiple: wholeIn('multiple', 1, 1024),
  outputKey: t.string,
})

/**
 * Checks DB head options from outside (CLI flags, a config, an untyped caller).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { textdet } from 'tta-lens'
 * assert.ok(E.isRight(textdet.checkDbHeadOptions({ boxThreshold: 0.5, multiple: 32 })))
 * const bad = textdet.checkDbHeadOptions({ boxThreshold: 5 })
 * assert.ok(E.isLeft(bad) && bad.left.message === 'db head: boxThreshold: expected a number in [0, 1], got 5')
 * @category constructors
 */
export const checkDbHeadOptions = (options: unknown): E.Either<ParamError, DbHeadOptions> => {
  const decoded = decodeWith(DbHeadOptionsCodec, options ?? {}, 'db head')
  if (E.isLeft(decoded)) return decoded
  const { threshold, boxThreshold, minArea, minSide, unclipRatio, connectivity, multiple, outputKey } = decoded.right
  return E.right({
    ...(threshold === undefined ? {} : { threshold }),
    ...(boxThreshold === undefined ? {} : { boxThreshold }),
    ...(minArea === undefined ? {} : { minArea }),
    ...(minSide === undefined ? {} : { minSide }),
    ...(unclipRatio === undefined ? {} : { unclipRatio }),
    ...(connectivity === undefined ? {} : { connectivity }),
    ...(multiple === undefined ? {} : { multiple }),
    ...(outputKey === undefined ? {} : { outputKey }),
  })
}

/**
 * Whether a model's declared output is a one-channel map in its input's frame (`[N, 1, H, W]`,
 * sizes by the input's names or unknown): the output the DB head decodes. How the CLI picks the
 * head when `--head` is not given.
 * @example
 * import { textdet } from 'tta-lens'
 * assert.strictEqual(textdet.isProbabilityMap({ input: ['N', 3, 'H', 'W'], output: ['N', 1, 'H', 'W'] }), true)
 * assert.strictEqual(textdet.isProbabilityMap({ input: ['N', 3, 'H', 'W'], output: ['N', 5] }), false)
 * @category utils
 */
export const isProbabilityMap = (signature: ModelSignature | undefined): boolean => {
  const out = signature?.output
  return out !== undefined && out.length === 4 && out[1] === 1
}

/** Pads a batch `[N, C, h, w]` with zeros at the bottom and right to `[N, C, H, W]`. */
const pad = (batch: Tensor<Shape>, n: number, c: number, h: number, w: number, H: number, W: number): Float32Array => {
  const out = new Float32Array(n * c * H * W)
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < h; y++) out.set(batch.data.subarray((p * h + y) * w, (p * h + y + 1) * w), (p * H + y) * W)
  }
  return out
}

/** The top-left `h × w` of each plane of `[N, K, H, W]`. */
const crop = (data: Float32Array, planes: number, H: number, W: number, h: number, w: number): Float32Array => {
  const out = new Float32Array(planes * h * w)
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < h; y++) out.set(data.subarray((p * H + y) * W, (p * H + y) * W + w), (p * h + y) * w)
  }
  return out
}

/**
 * A map model that accepts any view size: each batch is padded to multiples of `multiple`, the
 * model called, and its map cropped back to the batch's own size. An output that is not in the
 * padded input's frame rejects with a `TtaException` holding a `ShapeError`.
 * @internal
 */
export const paddedMapModel = <M extends (batch: never, ...extra: never) => Promise<ModelOutput>>(model: M, multiple: number, outputKey?: string) => {
  const inner: Callable = { call: model }
  return async (batch: Tensor<ModelInput<M>>, ...extra: ModelExtra<M>): Promise<Tensor<Shape>> => {
    const [n = 0, c = 0, h = 0, w = 0] = batch.shape
    const H = roundUp(h, multiple)
    const W = roundUp(w, multiple)
    const same = H === h && W === w
    if (!same) {
      const size = checkElements('the padded view', [n, c, H, W])
      if (E.isLeft(size)) throw new TtaException(size.left)
    }
    const input: Tensor<Shape> = same ? batch : assumeShape<Shape>([n, c, H, W], pad(batch, n, c, h, w, H, W))
    const out = decodeOutput(await inner.call(input, ...extra), outputKey, `[${input.shape.join(',')}]`)
    if (E.isLeft(out)) throw new TtaException(out.left)
    const [on, k = 0, oh, ow] = out.right.shape
    if (out.right.shape.length !== 4 || on !== n || oh !== H || ow !== W) {
      throw new TtaException(shapeError(`the DB head decodes a probability map [N,1,H,W] in the input's frame: given [${input.shape.join(',')}] the model returned [${out.right.shape.join(',')}]`))
    }
    return assumeShape<Shape>([n, k, h, w], same ? out.right.data : crop(out.right.data, n * k, H, W, h, w))
  }
}

/**
 * PP-OCR's DB post-processing as a detection head around a probability-map model: the result is a
 * detection model for `wrap.detection` (each view padded to `multiple`, its map decoded to boxes in
 * the view's pixels, label 0). The model's input signature and batch limit carry over, so the
 * wrapper still dry-runs against them. Bad options are a `ParamError`, returned instead of a head.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, textdet, wrap, type Tensor } from 'tta-lens'
 * // A stand-in for a 32-multiple map network: the map is the first input channel (and it refuses other sizes).
 * const net = async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => {
 *   const [n, , h, w] = x.shape
 *   if (h % 32 !== 0 || w % 32 !== 0) throw new Error(`sides must be multiples of 32, got ${h}x${w}`)
 *   return orThrow(tensor([n, 1, h, w], Array.from({ length: n }, (_, b) => Array.from(x.data.subarray(b * 3 * h * w, b * 3 * h * w + h * w))).flat()))
 * }
 * const data = new Float32Array(3 * 20 * 40)
 * for (let y = 6; y < 12; y++) for (let x = 8; x < 30; x++) data[y * 40 + x] = 0.9
 * const head = orThrow(textdet.dbHead(net))
 * // a 20×40 image (padded to 32×64 inside the head), its mirror, the boxes fused
 * const found = await wrap.detection(head, aliases.hflip(), { fusion: { method: 'wbf' } }).run(orThrow(tensor([1, 3, 20, 40], data)))()
 * assert.ok(E.isRight(found) && found.right[0]?.boxes.length === 1)
 * assert.ok(E.isLeft(textdet.dbHead(net, { unclipRatio: 0 })))
 * @category constructors
 */
export const dbHead = <M extends (batch: never, ...extra: never) => Promise<ModelOutput>>(
  model: M,
  options: DbHeadOptions = {},
): E.Either<ParamError, DetectionModel<ModelInput<M>, ModelExtra<M>> & { readonly signature?: ModelSignature }> => {
  const given: unknown = model
  if (typeof given !== 'function') return E.left(paramError(`the DB head wraps a model function, got ${showValue(given)}`))
  const checked = checkDbHeadOptions(options)
  if (E.isLeft(checked)) return checked
  const { multiple = 32, outputKey, ...box } = checked.right
  const signature = signatureOf(model)
  const paddedModel = paddedMapModel(model, multiple, outputKey)
  const kept = signature === undefined ? paddedModel : Object.assign(paddedModel, { signature })
  return E.right(detector(kept, dbDetections(box)))
}
