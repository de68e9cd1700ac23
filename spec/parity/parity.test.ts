/**
 * Parity with Python's ttach: every public case of spec/fixtures/ttach_public.json (or of the file
 * named by TTACH_GOLDEN: `TTACH_GOLDEN=/path/to/more.json npx vitest run spec/parity`), run through
 * our API and judged exact, within the float32 tolerance, or a documented deviation (whose own
 * behaviour is checked). The summary lines are printed at the end; docs/ttach.md quotes them.
 *
 *   npx vitest run spec/parity
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { product, views, type AnyFactor, type ParamError, type Product } from '../../src/index.js'
import { describeSource } from './reference-file.js'
import { decodeGolden, inputOf, loadGolden, outcomeOf, ttachGoldenFile, type ComposeMeta, type Golden, type TransformSpec, type WrapperCase } from './golden.js'
import { affine, baseModels, meanOf, parseModel, weightsOf } from './models.js'
import {
  buildFactor, compare, image4, judgeWrapper, keypointsByHand, parseCompose, refusalReason, runMerger, runnableViews, runOp, runWrapper,
  sameParams, showParams, siblingOf, tally, transformLabel, viewFor, type Verdict,
} from './run.js'

const file = ttachGoldenFile()
const golden = loadGolden(file)
const models = baseModels(weightsOf(golden))
const counts = tally()
/** The groups that are cases in the file's own count (`meta.counts.total_cases`); the two meta lists are checked and printed too. */
const caseGroups = ['merger_cases', 'transform_cases', 'transformer_cases', 'model_outputs', 'wrapper_cases']

afterAll(() => {
  console.log(`parity: reference file ${describeSource(file, 'TTACH_GOLDEN')}`)
  for (const line of counts.summary(caseGroups)) console.log(line)
  const raised = [golden.merger_cases, golden.transform_cases, golden.transformer_cases, golden.model_outputs, golden.wrapper_cases]
    .reduce((n, list) => n + list.filter((c) => 'error' in c).length, 0)
  console.log(`parity: ttach raised in ${raised} of those cases (the file's meta.counts, for the full set: ${JSON.stringify(golden.meta.counts)})`)
})

const memo = <A>(build: (key: string) => A): ((key: string) => A) => {
  const cache = new Map<string, A>()
  return (key) => {
    const hit = cache.get(key)
    if (hit !== undefined) return hit
    const made = build(key)
    cache.set(key, made)
    return made
  }
}

const specKey = (s: TransformSpec): string => JSON.stringify([s.transform, s.ctor])
const factorOf = memo((key: string): E.Either<ParamError, AnyFactor> => {
  const spec = golden.transform_meta.find((m) => specKey(m) === key) ?? golden.transform_cases.find((c) => specKey(c) === key)
  if (spec === undefined) throw new Error(`no transform ${key}`)
  return buildFactor(spec)
})

/** Our construction of a ttach transform; a `Left` must be one of the documented refusals. */
const construct = (spec: TransformSpec): { readonly factor: AnyFactor } | { readonly refused: Verdict } => {
  const built = factorOf(specKey(spec))
  const reason = refusalReason(spec)
  if (E.isLeft(built)) {
    expect(reason, `we refuse ${spec.transform}(${JSON.stringify(spec.ctor)}): ${built.left.message}`).toBeDefined()
    expect(built.left._tag).toBe('ParamError')
    return { refused: { kind: 'deviation', deviation: 'refused-at-construction', note: `${reason ?? ''}; ours: ${built.left.message}` } }
  }
  expect(reason, `${spec.transform}(${JSON.stringify(spec.ctor)}) should be refused`).toBeUndefined()
  return { factor: built.right }
}

const metaOf = new Map<string, ComposeMeta>(golden.compose_meta.map((m) => [m.compose, m]))
const composeOf = memo((name: string): Product<readonly AnyFactor[]> => {
  const meta = metaOf.get(name)
  if (meta === undefined) throw new Error(`no compose_meta for '${name}'`)
  const built = parseCompose(meta.expr)
  if (E.isLeft(built)) throw new Error(`compose '${name}' (${meta.expr}): ${built.left.message}`)
  return built.right
})

describe('the golden file', () => {
  it('decodes, and a copy with a broken case does not', () => {
    expect(golden.meta.ttach_version).toBe('0.0.3')
    const broken = { ...golden, merger_cases: [{ sequence: 's', items: [[1]], n: 1, merge_mode: 'mean' }] }
    expect(E.isLeft(decodeGolden(broken))).toBe(true)
    const stray = { ...golden, transform_cases: [{ ...golden.transform_cases[0], tolerance: 1 }] }
    expect(E.isLeft(decodeGolden(stray))).toBe(true)
  })

  it('holds every case kind, and probe inputs are arange (the convention used for probe_14x30)', () => {
    for (const list of [golden.merger_cases, golden.transform_meta, golden.transform_cases, golden.compose_meta, golden.transformer_cases, golden.model_outputs, golden.wrapper_cases]) {
      expect(list.length).toBeGreaterThan(0)
    }
    const stored = golden.inputs['probe_2x3']
    expect(stored?.data).toEqual([0, 1, 2, 3, 4, 5])
    const identity = golden.transform_cases.find((c) => c.op === 'roundtrip_mask' && c.input === 'probe_14x30|augment_image' && c.transform === 'Resize' && Array.isArray(c.param) && c.param[0] === 14)
    expect(identity && 'out' in identity ? identity.out.data : undefined).toEqual(inputOf(golden, 'probe_14x30').data)
  })
})

describe('the runner on cases only the full golden file may hold (not counted)', () => {
  // A non-square image, which the public file does not use for wrappers.
  const rect: Golden = { ...golden, inputs: { ...golden.inputs, img_rect: { shape: [2, 3, 6, 10], data: Array.from({ length: 360 }, (_, i) => ((i * 37) % 23) / 16 - 0.5) } } }
  const kpCase = (input: string): WrapperCase => ({
    wrapper: 'KeypointsTTAWrapper', model: 'kp_softargmax_scaled', wrapper_kwargs: { scaled: false }, compose: 'd4', merge_mode: 'mean', input,
    out: { shape: [2, 8], data: [] },
  })

  it("recognises ttach's scaled=False keypoints after a turn of a non-square image, and checks ours", async () => {
    const c = kpCase('img_rect')
    const theirs = keypointsByHand(rect, models, c, composeOf('d4'), 'input', 'mean')
    const run = await runWrapper(rect, models, c, composeOf('d4'))
    const verdict = judgeWrapper(rect, models, { ...c, out: { shape: theirs.shape, data: Array.from(theirs.data) } }, run, composeOf('d4'))
    expect(verdict.kind === 'deviation' && verdict.deviation).toBe('ttach-wrong-keypoints')
    // On a square image the two normalisations agree, and so do ttach and we.
    const sq = kpCase('img_sq')
    const same = keypointsByHand(rect, models, sq, composeOf('d4'), 'input', 'mean')
    const sqRun = await runWrapper(rect, models, sq, composeOf('d4'))
    expect(judgeWrapper(rect, models, { ...sq, out: { shape: same.shape, data: Array.from(same.data) } }, sqRun, composeOf('d4')).kind).not.toBe('deviation')
  })

  it("recognises ttach's failure on a Scale whose masks do not come back to the input size", async () => {
    const c: WrapperCase = {
      wrapper: 'SegmentationTTAWrapper', model: 'seg_conv1x1_sigmoid', wrapper_kwargs: {}, compose: 'multiscale_0p75', merge_mode: 'mean', input: 'img_rect',
      error: { type: 'RuntimeError', message: 'The size of tensor a (10) must match the size of tensor b (9) at non-singleton dimension 3' },
    }
    const run = await runWrapper(rect, models, c, composeOf('multiscale_0p75'))
    const verdict = judgeWrapper(rect, models, c, run, composeOf('multiscale_0p75'))
    expect(verdict.kind === 'deviation' && verdict.deviation).toBe('ttach-wrong-size')
    // …but not where the sizes do come back (8×8 at 0.75).
    const square = await runWrapper(rect, models, { ...c, input: 'img_sq' }, composeOf('multiscale_0p75'))
    expect(() => judgeWrapper(rect, models, { ...c, input: 'img_sq' }, square, composeOf('multiscale_0p75'))).toThrow(/ours answered/)
  })

  it('turns a MergeError of gmean over logits into a merge-refused deviation', async () => {
    const c: WrapperCase = {
      wrapper: 'ClassificationTTAWrapper', model: "cls_conv3x3_gap_logits wrapped as {'label': y, 'aux': mean(x)}", wrapper_kwargs: { output_label_key: 'label' },
      compose: 'd4', merge_mode: 'gmean', input: 'img_sq', extra_args: [], out_dict: { label: { shape: [2, 5], data: Array.from({ length: 10 }, () => Number.NaN) } },
    }
    const run = await runWrapper(golden, models, c, composeOf('d4'))
    const verdict = judgeWrapper(golden, models, c, run, composeOf('d4'))
    expect(verdict.kind === 'deviation' && verdict.deviation).toBe('merge-refused')
  })
})

describe('merger_cases', () => {
  for (const c of golden.merger_cases) {
    it(`${c.merge_mode} of ${c.sequence}`, () => counts.record('merger_cases', runMerger(c)))
  }
})

describe('transform_meta: names, parameter lists and identity rules', () => {
  for (const m of golden.transform_meta) {
    it(`${m.transform}(${JSON.stringify(m.ctor)})`, () => {
      const made = construct(m)
      if ('refused' in made) return counts.record('transform_meta', made.refused)
      const f = made.factor
      expect(f.name).toBe(m.transform)
      expect(f.pname).toBe(m.pname)
      expect(sameParams(f.options.map((o) => o.param), m.params), `params ${showParams(f.options.map((o) => o.param))} vs ttach ${showParams(m.params)}`).toBe(true)
      // The identity option (ttach's identity_param, or a Resize's original_size) does nothing.
      const identity = m.identity_param ?? (m.transform === 'Resize' ? m.ctor.original_size ?? null : null)
      if (identity !== null) {
        const option = f.options.find((o) => sameParams([o.param], [identity]))
        expect(option?.steps).toEqual([])
      }
      // ttach's DualTransform undoes masks, labels and keypoints; ImageOnly ones leave them alone
      // (ours: nothing to undo), except FiveCrops, which raises for masks and keypoints (ours: labels
      // only). ttach has no boxes; every one of these transforms undoes them here (a crop shifts them back).
      if (m.kind === 'DualTransform') expect([...f.undoes].sort()).toEqual(['boxes', 'keypoints', 'label', 'mask'])
      else if (m.transform === 'FiveCrops') expect([...f.undoes].sort()).toEqual(['boxes', 'label'])
      else expect(f.options.every((o) => o.steps.every((s) => s.op === 'pointwise'))).toBe(true)
      counts.record('transform_meta', { kind: 'exact', maxAbs: 0, maxRel: 0 })
    })
  }
})

describe('transform_cases: augment_image / deaugment_* of one transform', () => {
  for (const c of golden.transform_cases) {
    it(transformLabel(c), () => {
      const made = construct(c)
      if ('refused' in made) return counts.record('transform_cases', made.refused)
      const p: Product<readonly AnyFactor[]> = product(made.factor)
      const view = viewFor(runnableViews(p), c.param, transformLabel(c))
      const hint = c.transform === 'Resize' ? c.ctor.original_size : undefined
      const sibling = siblingOf(golden, c)
      counts.record('transform_cases', runOp(golden, view, {
        what: transformLabel(c), op: c.op, input: c.input, outcome: c,
        ...(hint === undefined ? {} : { hint }),
        ...(sibling === undefined ? {} : { sibling }),
      }))
    })
  }
})

describe('compose_meta: view counts and order', () => {
  for (const m of golden.compose_meta) {
    it(`${m.compose} = ${m.expr}`, () => {
      const p = composeOf(m.compose)
      const vs = views(p)
      expect(vs.length, 'view count').toBe(m.len)
      expect(p.factors.map((f) => f.name)).toEqual(m.transforms)
      expect(p.factors.map((f) => f.pname)).toEqual(m.pnames)
      vs.forEach((v, i) => {
        const want = m.aug_params[i] ?? []
        expect(sameParams(v.params, want), `view ${i}: ours (${showParams(v.params)}), ttach (${showParams(want)})`).toBe(true)
      })
      // ttach undoes in reverse transform order; so do we (resolveUndoMask / undoPoint walk the steps backwards).
      expect(m.deaug_transforms).toEqual([...m.transforms].reverse())
      m.deaug_params.forEach((ps, i) => expect(ps).toEqual([...(m.aug_params[i] ?? [])].reverse()))
      counts.record('compose_meta', { kind: 'exact', maxAbs: 0, maxRel: 0 })
    })
  }
})

describe('transformer_cases: each view of each compose', () => {
  for (const c of golden.transformer_cases) {
    const what = `${c.compose}[${c.index}] (${showParams(c.params)}) ${c.op}(${c.input})`
    it(what, () => {
      const vs = runnableViews(composeOf(c.compose))
      const view = vs[c.index]
      if (view === undefined) throw new Error(`${what}: ours has ${vs.length} views`)
      expect(sameParams(view.spec.params, c.params), `${what}: our view ${c.index} is (${showParams(view.spec.params)})`).toBe(true)
      counts.record('transformer_cases', runOp(golden, view, { what, op: c.op, input: c.input, outcome: c }))
    })
  }
})

describe('model_outputs: the TypeScript models against ttach\'s', () => {
  for (const c of golden.model_outputs) {
    it(`${c.model}(${c.input})`, () => {
      const spec = parseModel(c.model)
      const x = image4(inputOf(golden, c.input))
      const y = models[spec.base](x)
      const [offset = Number.NaN, scale = Number.NaN] = c.extra_args ?? []
      const outcome = outcomeOf(c)
      switch (outcome.kind) {
        case 'out': return counts.record('model_outputs', compare(c.model, spec.form === 'affine' ? affine(y, offset, scale) : y, outcome.out, 'tolerance'))
        case 'dict': {
          if (spec.form !== 'record') throw new Error(`${c.model}: a dict output from a model that is not a record`)
          const verdicts = Object.entries(outcome.dict).map(([k, t]) => compare(`${c.model}.${k}`, k === spec.key ? y : meanOf(x), t, 'tolerance'))
          const worst = (f: (v: Verdict) => number): number => Math.max(0, ...verdicts.map(f))
          const err = { maxAbs: worst((v) => (v.kind === 'deviation' ? 0 : v.maxAbs)), maxRel: worst((v) => (v.kind === 'deviation' ? 0 : v.maxRel)) }
          return counts.record('model_outputs', verdicts.every((v) => v.kind === 'exact') ? { kind: 'exact', ...err } : { kind: 'close', ...err })
        }
        case 'error': throw new Error(`${c.model}: ttach's model raised ${outcome.error.type}`)
      }
    })
  }
})

describe('wrapper_cases: wrappers × composes × merge modes', () => {
  for (const c of golden.wrapper_cases) {
    const what = `${c.wrapper}(${c.model}, ${JSON.stringify(c.wrapper_kwargs)}) ${c.compose} ${c.merge_mode}${c.extra_args === undefined ? '' : ` args [${c.extra_args.join(', ')}]`}`
    it(what, async () => {
      const p = composeOf(c.compose)
      const run = await runWrapper(golden, models, c, p)
      counts.record('wrapper_cases', judgeWrapper(golden, models, c, run, p))
    })
  }
})
