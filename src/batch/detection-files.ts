/**
 * Detection for the file runner: what a `run -t detection` needs besides the model and the policy
 * (the head that turns the model's output into boxes, the fusion, the minimum score), checked the
 * same way whether it came from the CLI's flags or from a job spec that crossed a thread or a Redis
 * queue, and the JSON record one image's fused boxes are written as. The single process, the
 * thread pool and every queue worker build their predictor here, so they write the same bytes.
 * Node-only (it reads an input's own size with sharp when `--size` resized it).
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import sharp from 'sharp'
import { paramError, type TtaError } from '../errors.js'
import { strictObject } from '../guard/decode.js'
import { views, type AnyFactor, type Product } from '../algebra/product.js'
import { FusionOptionsCodec, fusionDefaults, type FusionOptions } from '../boxes/fusion-options.js'
import { empty } from '../boxes/detections.js'
import type { ModelSignature } from '../plan/plan.js'
import type { Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/tensor.js'
import { DbHeadOptionsCodec, dbHead, isProbabilityMap, type DbHeadOptions } from '../textdet/head.js'
import * as wrap from '../wrapper/wrap.js'
import { signatureOf, type ExecutionOptions } from '../wrapper/execute.js'
import type { ModelOutput } from '../wrapper/model.js'
import type { Preprocess } from '../io/image.js'

/**
 * What a detection run needs besides the model and the policy: the head (`db`, or chosen from
 * the model's output when absent), its options, the fusion and the minimum fused score.
 * @category model
 */
export interface DetectionSettings {
  readonly head?: 'db'
  readonly headOptions: DbHeadOptions
  readonly fusion: FusionOptions
  readonly minScore: number
}

const UnitInterval = new t.Type<number, number, unknown>(
  'a number in [0, 1]',
  (u): u is number => typeof u === 'number' && u >= 0 && u <= 1,
  (u, c) => (typeof u === 'number' && u >= 0 && u <= 1 ? t.success(u) : t.failure(u, c, `expected a number in [0, 1], got ${JSON.stringify(u) ?? String(u)}`)),
  t.identity,
)

/**
 * {@link DetectionSettings} as a job spec carries them, decoded with the fusion's and the head's
 * own codecs (so a spec from outside is checked exactly as the CLI's flags are).
 * @category model
 */
export const DetectionSettingsCodec = strictObject('detection', {
  headOptions: DbHeadOptionsCodec,
  fusion: FusionOptionsCodec,
  minScore: UnitInterval,
}, { head: t.literal('db') })

/**
 * Checks that the fusion's per-view weights, if any, are one per view of the policy.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases } from 'tta-lens'
 * import { checkDetectionViews } from 'tta-lens/queue'
 * const settings = { headOptions: {}, fusion: { method: 'wbf', weights: [1, 2, 3] }, minScore: 0 } as const
 * const checked = checkDetectionViews(settings, aliases.hflip(), 'hflip')
 * assert.ok(E.isLeft(checked) && checked.left.message.startsWith('--weights has 3 entries for the 2 views of hflip'))
 * @category utils
 */
export const checkDetectionViews = (settings: DetectionSettings, product: Product<readonly AnyFactor[]>, policyText: string): E.Either<TtaError, void> => {
  const weights = settings.fusion.weights
  const names = views(product).map((v) => v.name)
  return weights === undefined || weights.length === names.length ? E.right(undefined)
    : E.left(paramError(`--weights has ${weights.length} entr${weights.length === 1 ? 'y' : 'ies'} for the ${names.length} views of ${policyText} (${names.join(', ')}); give one weight per view, in that order`))
}

/** The head for a model: the one asked for if the model's output fits it, else the one its output calls for, else why none fits. */
const headFor = (settings: DetectionSettings, signature: ModelSignature | undefined): E.Either<TtaError, 'db'> => {
  const shown = signature?.output === undefined ? 'unknown' : `[${signature.output.join(',')}]`
  if (signature?.output !== undefined && !isProbabilityMap(signature)) {
    return E.left(paramError(settings.head === 'db'
      ? `--head db decodes a text-probability map [N,1,H,W], but this model's output is ${shown}`
      : `-t detection needs a head that turns this model's output ${shown} into boxes; tta-lens has --head db, for a text-probability map [N,1,H,W] (PP-OCR's DB detectors)`))
  }
  return E.right('db')
}

/** A model with its head: a detection model, and what the output files record about the head. @category model */
export interface HeadModel {
  readonly model: wrap.DetectionModel<Shape, []> & { readonly signature?: ModelSignature }
  readonly head: Readonly<Record<string, unknown>>
}

/**
 * The model as a detection model (the head around it), with what the output files record about
 * the head; a model whose declared output no head decodes is a `ParamError` saying which heads
 * there are.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { orThrow, tensor, type Tensor } from 'tta-lens'
 * import { detectionHead } from 'tta-lens/queue'
 * const classifier = Object.assign(async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => orThrow(tensor([x.shape[0], 10], new Float32Array(10 * x.shape[0]))),
 *   { signature: { input: ['N', 3, 'H', 'W'], output: ['N', 10] } })
 * const refused = detectionHead(classifier, { headOptions: {}, fusion: { method: 'wbf' }, minScore: 0 })
 * assert.ok(E.isLeft(refused) && refused.left.message.includes('--head db'))
 * @category constructors
 */
export const detectionHead = (
  model: (batch: never, ...extra: never) => Promise<ModelOutput>,
  settings: DetectionSettings,
): E.Either<TtaError, HeadModel> =>
  E.flatMap(headFor(settings, signatureOf(model)), (name) =>
    E.Functor.map(dbHead(model, settings.headOptions), (head): HeadModel => ({
      model: head,
      head: { name, threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, multiple: 32, ...settings.headOptions },
    })))

/** The fusion as the output files record it: the method with every default filled in. */
const fusionRecord = (fusion: FusionOptions): Readonly<Record<string, unknown>> => {
  const { method, ...given } = fusion
  return { method, ...fusionDefaults[method], ...given }
}

/** JSON with one key per line but each list of numbers (a box, the scores) on one line. */
const compactJson = (value: unknown): string =>
  JSON.stringify(value, null, 1).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`)

/** One image's detections as `run -t detection` writes them. @category model */
export type DetectionPredict = (image: Tensor<readonly [1, number, number, number]>, file: string, shown?: string) => Promise<E.Either<TtaError, { readonly json: string }>>

/**
 * The predictor `run -t detection` calls per image: the views through the head, the boxes fused,
 * and the JSON record for the image (named `shown`, default `file`) — boxes in the input file's pixels (scaled back when the
 * preprocessing resized it), scores, labels, the views, the head and the fusion used.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, type Tensor } from 'tta-lens'
 * import { detectionHead, detectionPredictor } from 'tta-lens/queue'
 * // A "text detector" whose map is the image's first channel.
 * const net = Object.assign(async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => {
 *   const [n, , h, w] = x.shape
 *   return orThrow(tensor([n, 1, h, w], x.data.slice(0, n * h * w)))
 * }, { signature: { input: ['N', 3, 'H', 'W'], output: ['N', 1, 'H', 'W'] } })
 * const settings = { headOptions: {}, fusion: { method: 'wbf' }, minScore: 0 } as const
 * const head = orThrow(detectionHead(net, settings))
 * const data = new Float32Array(3 * 32 * 64)
 * for (let y = 8; y < 20; y++) for (let x = 10; x < 50; x++) data[y * 64 + x] = 0.9
 * const predict = detectionPredictor(head, aliases.hflip(), settings, {}, 'hflip', { channels: 3 })
 * const out = await predict(orThrow(tensor([1, 3, 32, 64], data)), 'page.png')
 * assert.ok(E.isRight(out))
 * const record = JSON.parse(out.right.json)
 * assert.deepStrictEqual(record.views, ['Identity', 'HorizontalFlip'])
 * assert.strictEqual(record.boxes.length, 1)
 * @category constructors
 */
export const detectionPredictor = (
  detector: HeadModel,
  product: Product<readonly AnyFactor[]>,
  settings: DetectionSettings,
  execution: ExecutionOptions,
  policyText: string,
  preprocess: Preprocess,
): DetectionPredict => {
  const tta = wrap.detection(detector.model, product, { ...execution, fusion: settings.fusion, minScore: settings.minScore })
  const viewNames = tta.views.map((v) => v.name)
  return async (image, file, shown = file) => {
    const found = await tta.run(image)()
    if (E.isLeft(found)) return found
    const [result = empty] = found.right
    const [, , h, w] = image.shape
    // With a resize in the preprocessing the model saw another size: boxes go back to the file's own pixels.
    let width = w
    let height = h
    if (preprocess.size !== undefined) {
      const meta = await sharp(file).metadata().catch(() => undefined)
      width = meta?.width ?? w
      height = meta?.height ?? h
    }
    const sx = width / w
    const sy = height / h
    const record = {
      image: shown, width, height,
      policy: policyText, views: viewNames, head: detector.head, fusion: fusionRecord(settings.fusion), minScore: settings.minScore,
      boxes: result.boxes.map((b) => [b[0] * sx, b[1] * sy, b[2] * sx, b[3] * sy]), scores: result.scores, labels: result.labels,
    }
    return E.right({ json: `${compactJson(record)}\n` })
  }
}
