/**
 * The reference outputs of Python's ttach (spec/fixtures/ttach_public.json, or the file named by the
 * environment variable `TTACH_GOLDEN`), decoded with io-ts.
 *
 * The file is data from outside the project, so it is decoded at the boundary like any other
 * input: every case kind has a codec, objects are closed (an unknown key is a decode error, not a
 * silently ignored field), tensors must have exactly `prod(shape)` values, and the strings
 * "NaN" / "Infinity" / "-Infinity" become numbers. {@link loadGolden} throws with every decode
 * error listed, so a file that does not match fails the parity suite loudly instead of checking
 * nothing.
 *
 * @since 0.1.0
 */
import fs from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { PathReporter } from 'io-ts/lib/PathReporter.js'
import { referenceFile } from './reference-file.js'

// ---------------------------------------------------------------------------------------------
// Combinators
// ---------------------------------------------------------------------------------------------

/** A codec that also rejects keys it does not know (io-ts's `type` would ignore them). */
const closed = <C extends t.Mixed>(codec: C, keys: readonly string[]): t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown> =>
  new t.Type<t.TypeOf<C>, t.OutputOf<C>, unknown>(
    codec.name,
    (u): u is t.TypeOf<C> => codec.is(u),
    (u, c) => {
      if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
        const extra = Object.keys(u).filter((k) => !keys.includes(k))
        if (extra.length > 0) return t.failure(u, c, `unexpected key(s) ${extra.join(', ')} (allowed: ${keys.join(', ')})`)
      }
      return codec.validate(u, c)
    },
    (a) => codec.encode(a),
  )

/** A JSON number, or one of the strings the file uses for non-finite values. */
const Num = new t.Type<number, number | string, unknown>(
  'Num',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return t.success(u)
    if (u === 'NaN') return t.success(Number.NaN)
    if (u === 'Infinity') return t.success(Number.POSITIVE_INFINITY)
    if (u === '-Infinity') return t.success(Number.NEGATIVE_INFINITY)
    return t.failure(u, c, 'expected a number or "NaN" / "Infinity" / "-Infinity"')
  },
  (n) => (Number.isNaN(n) ? 'NaN' : n === Number.POSITIVE_INFINITY ? 'Infinity' : n === Number.NEGATIVE_INFINITY ? '-Infinity' : n),
)

const Dim = new t.Type<number, number, unknown>(
  'Dim',
  (u): u is number => typeof u === 'number' && Number.isInteger(u) && u > 0,
  (u, c) => (typeof u === 'number' && Number.isInteger(u) && u > 0 ? t.success(u) : t.failure(u, c, 'expected a positive integer dimension')),
  t.identity,
)

/** A golden tensor: row-major float64 values with their shape. */
export interface GoldenTensor {
  readonly shape: readonly number[]
  readonly data: readonly number[]
}

const RawTensor = closed(t.type({ shape: t.array(Dim), data: t.array(Num) }), ['shape', 'data'])
const TensorC = new t.Type<GoldenTensor, t.OutputOf<typeof RawTensor>, unknown>(
  'Tensor',
  (u): u is GoldenTensor => RawTensor.is(u),
  (u, c) => pipe(RawTensor.validate(u, c), E.flatMap((raw) => {
    const size = raw.shape.reduce((a, d) => a * d, 1)
    return raw.data.length === size ? t.success(raw) : t.failure(u, c, `shape [${raw.shape.join(',')}] needs ${size} values but has ${raw.data.length}`)
  })),
  (a) => RawTensor.encode({ shape: [...a.shape], data: [...a.data] }),
)

const Size = t.tuple([Dim, Dim])
/** ttach's parameter values: flips (bool), angles/scales/values (number), crop function names, sizes [h, w]. */
const Param = t.union([t.boolean, t.number, t.string, Size])
export type Param = t.TypeOf<typeof Param>

const ErrorC = closed(t.type({ type: t.string, message: t.string }), ['type', 'message'])
export type GoldenError = t.TypeOf<typeof ErrorC>

/** A call either returned a tensor or raised. */
const Outcome = t.union([t.type({ out: TensorC }), t.type({ error: ErrorC })])
export type Outcome = t.TypeOf<typeof Outcome>

// ---------------------------------------------------------------------------------------------
// Transforms: the constructor arguments, per ttach class
// ---------------------------------------------------------------------------------------------

const Empty = closed(t.type({}), [])
const resampleKeys = ['interpolation', 'align_corners']
export const TransformSpecCodec = t.union([
  t.type({ transform: t.literal('HorizontalFlip'), ctor: Empty }),
  t.type({ transform: t.literal('VerticalFlip'), ctor: Empty }),
  t.type({ transform: t.literal('Rotate90'), ctor: closed(t.type({ angles: t.array(t.number) }), ['angles']) }),
  t.type({
    transform: t.literal('Scale'),
    ctor: closed(t.intersection([t.type({ scales: t.array(t.number) }), t.partial({ interpolation: t.string, align_corners: t.boolean })]), ['scales', ...resampleKeys]),
  }),
  t.type({
    transform: t.literal('Resize'),
    ctor: closed(
      t.intersection([t.type({ sizes: t.array(Size) }), t.partial({ original_size: Size, interpolation: t.string, align_corners: t.boolean })]),
      ['sizes', 'original_size', ...resampleKeys],
    ),
  }),
  t.type({ transform: t.literal('Add'), ctor: closed(t.type({ values: t.array(t.number) }), ['values']) }),
  t.type({ transform: t.literal('Multiply'), ctor: closed(t.type({ factors: t.array(t.number) }), ['factors']) }),
  t.type({ transform: t.literal('FiveCrops'), ctor: closed(t.type({ crop_height: Dim, crop_width: Dim }), ['crop_height', 'crop_width']) }),
])
/** A ttach transform class with its constructor arguments. */
export type TransformSpec = t.TypeOf<typeof TransformSpecCodec>

const Op = t.keyof({ augment_image: null, deaugment_mask: null, roundtrip_mask: null, deaugment_label: null, deaugment_keypoints: null })
export type Op = t.TypeOf<typeof Op>

// ---------------------------------------------------------------------------------------------
// The case kinds
// ---------------------------------------------------------------------------------------------

const MergerCase = closed(
  t.intersection([t.type({ sequence: t.string, items: t.array(t.array(Num)), n: t.number, merge_mode: t.string }), Outcome]),
  ['sequence', 'items', 'n', 'merge_mode', 'out', 'error'],
)
export type MergerCase = t.TypeOf<typeof MergerCase>

const TransformMeta = closed(
  t.intersection([TransformSpecCodec, t.type({ pname: t.string, params: t.array(Param), identity_param: t.union([Param, t.null]), kind: t.keyof({ DualTransform: null, ImageOnlyTransform: null }) })]),
  ['transform', 'ctor', 'pname', 'params', 'identity_param', 'kind'],
)
export type TransformMeta = t.TypeOf<typeof TransformMeta>

const TransformCase = closed(
  t.intersection([TransformSpecCodec, t.type({ pname: t.string, param: Param, op: Op, input: t.string }), Outcome]),
  ['transform', 'ctor', 'pname', 'param', 'op', 'input', 'out', 'error'],
)
export type TransformCase = t.TypeOf<typeof TransformCase>

const ComposeMeta = closed(
  t.type({
    compose: t.string,
    expr: t.string,
    len: t.number,
    transforms: t.array(t.string),
    pnames: t.array(t.string),
    aug_params: t.array(t.array(Param)),
    deaug_transforms: t.array(t.string),
    deaug_params: t.array(t.array(Param)),
  }),
  ['compose', 'expr', 'len', 'transforms', 'pnames', 'aug_params', 'deaug_transforms', 'deaug_params'],
)
export type ComposeMeta = t.TypeOf<typeof ComposeMeta>

const TransformerCase = closed(
  t.intersection([t.type({ compose: t.string, index: t.number, params: t.array(Param), op: Op, input: t.string }), Outcome]),
  ['compose', 'index', 'params', 'op', 'input', 'out', 'error'],
)
export type TransformerCase = t.TypeOf<typeof TransformerCase>

/** A wrapper either returned a tensor, a `{key: tensor}` dict (when given an output key), or raised. */
const WrapperOutcome = t.union([t.type({ out: TensorC }), t.type({ out_dict: t.record(t.string, TensorC) }), t.type({ error: ErrorC })])
export type WrapperOutcome = t.TypeOf<typeof WrapperOutcome>

const ModelOutput = closed(
  t.intersection([t.type({ model: t.string, input: t.string }), t.partial({ extra_args: t.array(t.number) }), WrapperOutcome]),
  ['model', 'input', 'extra_args', 'out', 'out_dict', 'error'],
)
export type ModelOutput = t.TypeOf<typeof ModelOutput>

const WrapperKwargs = closed(
  t.partial({ output_mask_key: t.string, output_label_key: t.string, output_keypoints_key: t.string, scaled: t.boolean }),
  ['output_mask_key', 'output_label_key', 'output_keypoints_key', 'scaled'],
)
export type WrapperKwargs = t.TypeOf<typeof WrapperKwargs>

const WrapperCase = closed(
  t.intersection([
    t.type({
      wrapper: t.keyof({ SegmentationTTAWrapper: null, ClassificationTTAWrapper: null, KeypointsTTAWrapper: null }),
      model: t.string,
      wrapper_kwargs: WrapperKwargs,
      compose: t.string,
      merge_mode: t.string,
      input: t.string,
    }),
    t.partial({ extra_args: t.array(t.number) }),
    WrapperOutcome,
  ]),
  ['wrapper', 'model', 'wrapper_kwargs', 'compose', 'merge_mode', 'input', 'extra_args', 'out', 'out_dict', 'error'],
)
export type WrapperCase = t.TypeOf<typeof WrapperCase>

const Golden = t.type({
  meta: t.type({ ttach_version: t.string, torch_version: t.string, dtype: t.string, merge_modes: t.array(t.string), counts: t.record(t.string, t.number) }),
  conventions: t.record(t.string, t.string),
  inputs: t.record(t.string, TensorC),
  models: t.type({ description: t.record(t.string, t.string), params: t.record(t.string, TensorC) }),
  merger_cases: t.array(MergerCase),
  transform_meta: t.array(TransformMeta),
  transform_cases: t.array(TransformCase),
  compose_meta: t.array(ComposeMeta),
  transformer_cases: t.array(TransformerCase),
  model_outputs: t.array(ModelOutput),
  wrapper_cases: t.array(WrapperCase),
})
/** The whole decoded file. */
export type Golden = t.TypeOf<typeof Golden>

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/** Decodes parsed JSON; `Left` carries one readable line per decode error. */
export const decodeGolden = (json: unknown): E.Either<readonly string[], Golden> =>
  pipe(Golden.decode(json), E.mapLeft((errors) => PathReporter.report(E.left(errors))))

/** Where the fixture lives (a copy of ../shared/golden/ttach_public.json, so the project runs on its own). */
export const goldenPath = new URL('../fixtures/ttach_public.json', import.meta.url)

/** The file the parity suite reads: the one named by `TTACH_GOLDEN` when set, else the fixture. */
export const ttachGoldenFile = (env: Readonly<Record<string, string | undefined>> = process.env): URL | string =>
  referenceFile('TTACH_GOLDEN', goldenPath, env)

/**
 * Reads and decodes the reference file (by default {@link ttachGoldenFile}), throwing with every
 * decode error when it does not match: a broken or changed file must fail the suite, never make it
 * check fewer cases.
 */
export const loadGolden = (path: URL | string = ttachGoldenFile()): Golden => {
  const parsed: unknown = JSON.parse(fs.readFileSync(path, 'utf8'))
  const decoded = decodeGolden(parsed)
  if (E.isLeft(decoded)) {
    const shown = decoded.left.slice(0, 20)
    throw new Error(`the ttach golden file ${String(path)} does not decode (${decoded.left.length} errors):\n  ${shown.join('\n  ')}`)
  }
  return decoded.right
}

/** The outcome of a case as a tagged value, for `switch`. */
export const outcomeOf = (o: WrapperOutcome):
  | { readonly kind: 'out'; readonly out: GoldenTensor }
  | { readonly kind: 'dict'; readonly dict: Readonly<Record<string, GoldenTensor>> }
  | { readonly kind: 'error'; readonly error: GoldenError } =>
  'out' in o ? { kind: 'out', out: o.out } : 'out_dict' in o ? { kind: 'dict', dict: o.out_dict } : { kind: 'error', error: o.error }

/**
 * An input tensor by name. `probe_HxW` inputs that the file uses but does not store are
 * `arange(H·W)` as `[1, 1, H, W]`, the convention of the stored `probe_2x3` (checked by the suite,
 * and confirmed by the identity round trip of `probe_14x30`, which returns exactly that).
 */
export const inputOf = (golden: Golden, name: string): GoldenTensor => {
  const stored = golden.inputs[name]
  if (stored !== undefined) return stored
  const probe = /^probe_(\d+)x(\d+)$/.exec(name)
  if (probe !== null) {
    const h = Number(probe[1])
    const w = Number(probe[2])
    return { shape: [1, 1, h, w], data: Array.from({ length: h * w }, (_, i) => i) }
  }
  throw new Error(`the golden file has no input '${name}'`)
}
