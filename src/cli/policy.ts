/**
 * The CLI's policy commands: `tta-lens search` (a greedy policy search on a labelled selection
 * set, writing a policy file) and `tta-lens eval --policy` (the policy against the single pass on
 * data it never saw, with uncertainty AUROCs and early exit on request). The work is the library's
 * (`collectPredictions`, `searchPolicy`, `evaluatePolicy`); this file reads, reports and writes.
 *
 * @since 0.4.0
 */
import { readFile } from 'node:fs/promises'
import { SingleBar, Presets } from 'cli-progress'
import * as E from 'fp-ts/lib/Either.js'
import {
  collectPredictions, decodeIndexSplit, describeMerge, evaluatePolicy, parsePool, policyFromSearch, searchPolicy, showP, standardPool, viewName,
  type ExecutionOptions, type LabelledSet, type Policy, type PolicyEvaluation, type SearchStep, type TtaError, type ViewOps,
} from '../index.js'
import { readIdx } from '../io/idx.js'
import { fileSha256, folderStore, readPolicy, writePolicy } from '../io/policy-files.js'

/** What the policy commands need from the CLI around them. */
export interface CliEdges {
  readonly fail: (message: string) => never
  readonly orFail: <A>(either: E.Either<TtaError, A>) => A
  readonly openModel: () => Promise<Parameters<typeof collectPredictions>[0] & { readonly release: () => Promise<void> }>
  readonly execution: ExecutionOptions
}

/** Flags of the labelled set: IDX files, optionally cut by a split file. */
export interface SetFlags {
  readonly idx?: readonly string[]
  readonly split?: string
  readonly half?: 'selection' | 'evaluation'
  readonly limit?: number
}

/** The labelled set the flags name: IDX images (scaled to 0..1) and labels, cut to one half of a split. */
export const loadSet = async (o: SetFlags, edges: CliEdges, defaultHalf: 'selection' | 'evaluation'): Promise<{ set: LabelledSet; source: string; indices: readonly number[] }> => {
  if (o.idx === undefined || o.idx.length !== 2) return edges.fail(`--idx takes two files, images then labels${o.idx === undefined ? '' : `; got ${o.idx.length}`}`)
  const [imagesPath = '', labelsPath = ''] = o.idx
  const images = edges.orFail(await readIdx(imagesPath))
  const labels = edges.orFail(await readIdx(labelsPath))
  const [count = 0, h = 0, w = 0] = images.shape
  if (images.shape.length !== 3 || labels.data.length !== count) edges.fail(`--idx: ${imagesPath} holds [${images.shape.join(',')}] but ${labelsPath} ${labels.data.length} labels`)
  let indices: readonly number[] = Array.from({ length: count }, (_, i) => i)
  let source = imagesPath
  if (o.split !== undefined) {
    const half = o.half ?? defaultHalf
    let json: unknown
    try {
      json = JSON.parse(await readFile(o.split, 'utf8'))
    } catch (e) {
      return edges.fail(`cannot read the --split ${o.split}: ${e instanceof Error ? e.message : String(e)}`)
    }
    indices = edges.orFail(E.mapLeft((e: TtaError) => ({ ...e, message: `--split ${o.split}: ${e.message}` }))(decodeIndexSplit(json, count)))[half]
    source = `${o.split}#${half}`
  }
  if (o.limit !== undefined) indices = indices.slice(0, o.limit)
  // Only the chosen images are converted to floats (0..1).
  const per = h * w
  const pixels = new Float32Array(indices.length * per)
  const chosen = new Uint8Array(indices.length)
  indices.forEach((i, k) => {
    const from = images.data.subarray(i * per, (i + 1) * per)
    for (let p = 0; p < per; p++) pixels[k * per + p] = (from[p] ?? 0) / 255
    chosen[k] = labels.data[i] ?? 0
  })
  const set: LabelledSet = { shape: [indices.length, 1, h, w], images: pixels, labels: chosen }
  return { set, source, indices }
}

const progress = (total: number, label: string): SingleBar => {
  const bar = new SingleBar({ format: `${label} {bar} {value}/{total} {item}`, hideCursor: true, noTTYOutput: false, stream: process.stderr }, Presets.shades_classic)
  bar.start(total, 0, { item: '' })
  return bar
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`

/** The step table of a search, as `tta-lens search` prints it. */
export const stepTable = (steps: readonly SearchStep[], pool: readonly ViewOps[]): string => [
  `${'step'.padEnd(5)}${'action'.padEnd(7)}${'view'.padEnd(26)}${'merge'.padEnd(36)}${'NLL'.padStart(9)}${'accuracy'.padStart(10)}${'fixed'.padStart(7)}${'broken'.padStart(8)}${'T'.padStart(7)}`,
  ...steps.map((s) => `${String(s.step).padEnd(5)}${s.action.padEnd(7)}${(s.action === 'add' ? viewName(pool[s.view ?? 0] ?? []) : s.action === 'none' ? 'identity' : '(all chosen)').padEnd(26)}` +
    `${s.mergeName.padEnd(36)}${s.nll.toFixed(5).padStart(9)}${pct(s.accuracy).padStart(10)}${(s.step === 0 ? '—' : String(s.fixed)).padStart(7)}${(s.step === 0 ? '—' : String(s.broken)).padStart(8)}${s.merge.temperature.toFixed(3).padStart(7)}`),
].join('\n')

/** `tta-lens search`: flags → policy file. */
export const searchCommand = async (o: SetFlags & {
  readonly model: string
  readonly out: string
  readonly candidates: string
  readonly maxViews: number
  readonly scores: 'logits' | 'probabilities'
  readonly cache?: string
  readonly batch: number
  readonly fit: boolean
}, edges: CliEdges): Promise<void> => {
  const started = performance.now()
  const { set, source } = await loadSet(o, edges, 'selection')
  const [n, c, h, w] = set.shape
  const pool = edges.orFail(E.mapLeft((e: TtaError) => ({ ...e, message: `--candidates: ${e.message}` }))(parsePool(o.candidates, h, w)))
  const model = await edges.openModel()
  const sha = await fileSha256(o.model)
  const cacheDir = o.cache ?? `${o.out}.cache`
  process.stderr.write(`search: ${pool.length} candidate views on ${n} items (${source}); cache ${cacheDir} (a rerun reuses it)\n`)
  const bar = progress(pool.length * n, 'views')
  let reused = 0
  const cache = await collectPredictions(model, set, pool, {
    ...edges.execution, scores: o.scores, store: folderStore(cacheDir), modelKey: sha, imagesPerRun: o.batch,
    onProgress: (p) => { if (p.cached && p.done === p.total) reused++; bar.update(p.view * n + p.done, { item: p.name }) },
  })
  bar.stop()
  await model.release()
  const cached = edges.orFail(cache)
  const classes = cached.classes
  const collected = (performance.now() - started) / 1000
  process.stderr.write(`predictions: ${pool.length - reused} views run, ${reused} read from the cache (${collected.toFixed(1)} s)\n`)
  const searchStarted = performance.now()
  const found = edges.orFail(searchPolicy(cached, set.labels, { budget: { views: o.maxViews }, fit: o.fit }))
  const seconds = (performance.now() - started) / 1000
  // The command that regenerates the file (where the cache lives does not change the result).
  const argv = process.argv.slice(3)
  const command = ['npx tta-lens search', ...argv.filter((a, i) => a !== '--cache' && argv[i - 1] !== '--cache')].join(' ')
  const file = policyFromSearch(found, {
    task: 'classification',
    model: { input: [c, h, w], classes, scores: o.scores, name: o.model.split('/').pop() ?? o.model, sha256: sha },
    pool, budget: { views: o.maxViews }, items: n, source, seconds: Number(seconds.toFixed(1)), command,
  })
  edges.orFail(await writePolicy(o.out, file))
  process.stdout.write(`${stepTable(found.steps, pool)}\n`)
  if (found.crossValidation.length > 0) {
    process.stdout.write(`fitted merges, 2-fold cross-validated NLL on the selection set: ${found.crossValidation.map((x) => `${x.merge} ${x.nll.toFixed(5)}`).join(' · ')}\n`)
  }
  process.stdout.write(`selection: none ${pct(found.baseline.accuracy)} (NLL ${found.baseline.nll.toFixed(5)}) → policy ${pct(found.chosen.accuracy)} (NLL ${found.chosen.nll.toFixed(5)}), ` +
    `${found.views.length} view${found.views.length === 1 ? '' : 's'} [${found.views.map((v) => viewName(pool[v] ?? [])).join(', ')}], ${describeMerge(found.merge)}\n`)
  process.stdout.write(`wrote ${o.out} · search ${((performance.now() - searchStarted) / 1000).toFixed(1)} s, all ${seconds.toFixed(1)} s\n`)
}

/** The tables of a policy evaluation. */
export const evaluationTables = (name: string, e: PolicyEvaluation): string => {
  const row = (label: string, views: string, r: { accuracy: number; fixed: number; broken: number; p: number; msPerImage: number }, base: boolean): string =>
    `  ${label.padEnd(26)}${views.padStart(6)}${pct(r.accuracy).padStart(10)}${(base ? '—' : String(r.fixed)).padStart(7)}${(base ? '—' : String(r.broken)).padStart(8)}  ${(base ? '—' : showP(r.p)).padEnd(12)}${r.msPerImage.toFixed(3).padStart(9)}`
  const lines = [
    `  ${'policy'.padEnd(26)}${'views'.padStart(6)}${'accuracy'.padStart(10)}${'fixed'.padStart(7)}${'broken'.padStart(8)}  ${'McNemar'.padEnd(12)}${'ms/image'.padStart(9)}`,
    row('none', '1', e.none, true),
    row(name, String(e.views), e.policy, false),
  ]
  for (const x of e.earlyExit ?? []) {
    lines.push(`${row(`early exit ≥ ${x.margin}, ≥ ${x.minViews} view${x.minViews === 1 ? '' : 's'}`, (x.modelCalls / e.items).toFixed(2), x, false)}  calls saved ${(100 * x.callsSaved).toFixed(1)}% · vs full: −${x.lostToFull} +${x.gainedOnFull}`)
  }
  if (e.flags !== undefined) {
    lines.push('', `  ${'flagging errors: AUROC of'.padEnd(42)}${'single-pass errors'.padStart(20)}${'policy errors'.padStart(16)}`)
    for (const f of e.flags) lines.push(`  ${f.measure.padEnd(42)}${f.singlePassErrors.toFixed(4).padStart(20)}${f.policyErrors.toFixed(4).padStart(16)}`)
  }
  return lines.join('\n')
}

/** `tta-lens eval --policy`: the policy against the single pass on (by default) the evaluation half. */
export const evalPolicyCommand = async (o: SetFlags & {
  readonly policy: string
  readonly batch: number
  readonly uncertainty?: boolean
  readonly earlyExit?: readonly number[]
  readonly minViews?: number
}, edges: CliEdges): Promise<void> => {
  const policy: Policy = edges.orFail(await readPolicy(o.policy))
  const { set, source } = await loadSet(o, edges, 'evaluation')
  const model = await edges.openModel()
  const bar = progress(set.shape[0] * (2 + (o.earlyExit?.length ?? 0)), 'eval')
  let finished = 0
  const measured = edges.orFail(await evaluatePolicy(model, set, policy, {
    ...edges.execution, imagesPerRun: o.batch, uncertainty: o.uncertainty === true,
    earlyExit: (o.earlyExit ?? []).map((margin) => ({ margin, ...(o.minViews === undefined ? {} : { minViews: o.minViews }) })),
    onProgress: (run, done, total) => { bar.update(finished + done, { item: run }); if (done === total) finished += total },
  }))
  bar.stop()
  await model.release()
  process.stdout.write(`${o.policy} on ${measured.items} items (${source}): ${policy.views.map(viewName).join(', ')} · ${describeMerge(policy.policyMerge)}\n`)
  process.stdout.write(`${evaluationTables('policy', measured)}\n`)
}

/** The default candidate pool's text, for `--candidates`' help. */
export const defaultPool = standardPool
