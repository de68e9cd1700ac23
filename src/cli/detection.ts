/**
 * The CLI's detection task: its flags (head, fusion, minimum score) and `eval -t detection` (P/R/F1
 * per policy on a folder with a truth file). `run -t detection` (one JSON of boxes per image) goes
 * through the shared file runner (`batch/files-run`, `batch/detection-files`) in every mode.
 * Everything is the library's: `textdet.dbHead`, `wrap.detection`, `boxes.parseFusionOptions`,
 * `decodeDetectionTruth`, `scoreLabelled`, `compareDetections`; this file parses, reads and prints.
 *
 * Heads: a detection model's raw output must become boxes before fusion. `--head db` decodes a
 * probability map `[N, 1, H, W]` with PP-OCR's DB post-processing (PP-OCRv4's text detector);
 * without `--head` the CLI picks it for a model whose declared output is such a map, and refuses
 * other models with a message that says what heads there are.
 *
 * @since 0.5.0
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { dirname, extname, join, relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Option, type Command } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import {
  boxes, checkTruthFits, compareDetections, decodeDetectionTruth, paramError, parsePolicy, setScore, scoreLabelled, showP, textdet, views, wrap,
  type ExecutionOptions, type OnnxModel, type Shape, type TruthEntry, type TtaError,
} from '../index.js'
import { detectionHead, type DetectionSettings, type HeadModel } from '../batch/detection-files.js'
import type { BoxScore } from '../textdet/score.js'
import type { FusionMethod } from '../boxes/fusion-options.js'
import { readImage, type Preprocess } from '../io/image.js'

// -------------------------------------------------------------------------------------------------
// flags
// -------------------------------------------------------------------------------------------------

/** What the detection flags hold as commander parses them (numbers stay text when they are not numbers, for the checks to name). */
export interface DetectionFlags {
  readonly head?: 'db'
  readonly fusion?: FusionMethod
  readonly iouThreshold?: number | string
  readonly skipThreshold?: number | string
  readonly confidence?: string
  readonly allowsOverflow?: boolean
  readonly kernel?: string
  readonly sigma?: number | string
  readonly scoreThreshold?: number | string
  readonly weights?: readonly (number | string)[]
  readonly minScore?: number | string
  readonly dbThreshold?: number | string
  readonly dbBoxThreshold?: number | string
  readonly dbUnclipRatio?: number | string
  readonly padTo?: number | string
}

const numberOrText = (value: string): number | string => (value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value)
const list = (value: string): readonly (number | string)[] => value.split(',').map(numberOrText)

/** The flag that sets each fusion option, for messages in the user's words. */
const flagOf: Readonly<Record<string, string>> = {
  method: '--fusion', iouThreshold: '--iou-threshold', skipThreshold: '--skip-threshold', confidence: '--confidence',
  allowsOverflow: '--allows-overflow', kernel: '--kernel', sigma: '--sigma', scoreThreshold: '--score-threshold', weights: '--weights', scores: '--scores',
}
const inFlags = (message: string): string => message.replace(/\b(method|iouThreshold|skipThreshold|confidence|allowsOverflow|kernel|sigma|scoreThreshold|weights|scores)\b/g, (k) => flagOf[k] ?? k)

/**
 * Adds the detection flags to a command (`run`, `eval`, `explain`): they are read only with
 * `-t detection`.
 * @category constructors
 */
export const withDetectionFlags = (command: Command): Command => command
  .addOption(new Option('--head <name>', "-t detection: how the model's output becomes boxes — db: a text-probability map [N,1,H,W] through PP-OCR's DB post-processing (default for a model with such an output)").choices(['db']))
  .addOption(new Option('--fusion <method>', '-t detection: how the views\' boxes are fused').choices([...boxes.fusionMethods]).default('wbf'))
  .option('--iou-threshold <t>', '-t detection: fusion IoU threshold (nms 0.5, soft-nms 0.5, nmw 0.55, wbf 0.55 by default)', numberOrText)
  .option('--skip-threshold <t>', '-t detection, nmw/wbf: drop view boxes scoring below this before fusing', numberOrText)
  .option('--confidence <rule>', '-t detection, wbf: avg, max, box_and_model_avg or absent_model_aware_avg')
  .option('--allows-overflow', '-t detection, wbf with avg: let fused scores exceed 1')
  .option('--kernel <kind>', '-t detection, soft-nms: linear or gaussian')
  .option('--sigma <s>', '-t detection, soft-nms gaussian: its sigma', numberOrText)
  .option('--score-threshold <t>', '-t detection, soft-nms: drop boxes whose decayed score falls to this', numberOrText)
  .option('--weights <w,w,…>', '-t detection: one fusion weight per view, in the order of the policy\'s views', list)
  .option('--min-score <t>', '-t detection: drop fused boxes scoring below this (0 keeps all)', numberOrText)
  .option('--db-threshold <t>', '--head db: a pixel is text above this probability (PP-OCR: 0.3)', numberOrText)
  .option('--db-box-threshold <t>', '--head db: drop a region whose mean probability is below this (PP-OCR: 0.6)', numberOrText)
  .option('--db-unclip-ratio <r>', '--head db: how far a text kernel is grown back (PP-OCR: 1.5)', numberOrText)
  .option('--pad-to <k>', '--head db: pad each view to a multiple of k pixels for the network (default 32)', numberOrText)

/**
 * Checks the detection flags before any file is read: the fusion options through the fusion
 * module's own parser (`boxes.parseFusionOptions`, with the flags' names in its messages), the
 * minimum score, and the DB head's options.
 * @category constructors
 */
export const detectionSettings = (o: DetectionFlags): E.Either<TtaError, DetectionSettings> => {
  const given: Record<string, unknown> = {
    method: o.fusion ?? 'wbf',
    iouThreshold: o.iouThreshold, skipThreshold: o.skipThreshold, confidence: o.confidence, allowsOverflow: o.allowsOverflow,
    kernel: o.kernel, sigma: o.sigma, scoreThreshold: o.scoreThreshold, weights: o.weights,
  }
  const present = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))
  const fusion = E.mapLeft((e: TtaError) => paramError(inFlags(e.message)))(boxes.parseFusionOptions(present))
  if (E.isLeft(fusion)) return fusion
  const minScore = E.mapLeft((e: TtaError) => paramError(`--min-score: ${e.message.replace(/^minScore /, '')}`))(boxes.checkMinScore(o.minScore ?? 0))
  if (E.isLeft(minScore)) return minScore
  const headGiven: Record<string, unknown> = { threshold: o.dbThreshold, boxThreshold: o.dbBoxThreshold, unclipRatio: o.dbUnclipRatio, multiple: o.padTo }
  const headOptions = textdet.checkDbHeadOptions(Object.fromEntries(Object.entries(headGiven).filter(([, v]) => v !== undefined)))
  if (E.isLeft(headOptions)) {
    const flags: Readonly<Record<string, string>> = { threshold: '--db-threshold', boxThreshold: '--db-box-threshold', unclipRatio: '--db-unclip-ratio', multiple: '--pad-to' }
    return E.left(paramError(headOptions.left.message.replace(/^db head: (\w+)/, (_, k: string) => flags[k] ?? k)))
  }
  return E.right({ ...(o.head === undefined ? {} : { head: o.head }), headOptions: headOptions.right, fusion: fusion.right, minScore: minScore.right })
}

/** A model as the CLI opens it. */
type CliModel = OnnxModel<Shape, Readonly<Record<string, Shape>>>

/** The model as a detection model (the head around it), with what the output files record about the head. */
export const detectionModel = (model: CliModel, settings: DetectionSettings): E.Either<TtaError, HeadModel> => detectionHead(model, settings)

// -------------------------------------------------------------------------------------------------
// eval -t detection
// -------------------------------------------------------------------------------------------------

/** What `eval -t detection` reads besides the common flags. */
export interface DetectionEvalFlags extends DetectionFlags {
  readonly folder?: string
  readonly truth?: string
  readonly policies: string
  readonly iou?: number | string
  readonly limit?: number
}

/** What the eval needs from the CLI: how it fails, opens the model and runs. */
export interface DetectionEdges {
  readonly fail: (message: string) => never
  readonly orFail: <A>(either: E.Either<TtaError, A>) => A
  readonly openModel: () => Promise<CliModel>
  readonly execution: ExecutionOptions
  readonly preprocess: Preprocess
  readonly progress: (total: number, label: string) => { increment: (step?: number, payload?: object) => void; update: (value: number, payload?: object) => void; stop: () => void }
}

const imageExtensions = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.bmp', '.avif']

/** Reads and checks the truth file: one line and exit 2 for anything wrong with it. */
const loadTruth = async (path: string, folder: string, edges: DetectionEdges): Promise<readonly TruthEntry[]> => {
  let text: string
  try {
    const info = await stat(path)
    if (!info.isFile()) return edges.fail(`cannot read the truth file ${path}: not a file`)
    if (info.size > 64 << 20) return edges.fail(`cannot read the truth file ${path}: ${info.size.toLocaleString('en-US')} bytes is more than a truth file may have (64 MiB)`)
    text = await readFile(path, 'utf8')
  } catch (e) {
    return edges.fail(`cannot read the truth file ${path}: ${e instanceof Error ? e.message : String(e)}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return edges.fail(`the truth file ${path} is not JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
  const entries = edges.orFail(decodeDetectionTruth(json, path))
  if (entries.length === 0) edges.fail(`the truth file ${path} lists no images`)
  for (const entry of entries) {
    const info = await stat(join(folder, entry.file)).catch(() => undefined)
    if (info === undefined || !info.isFile()) edges.fail(`the truth file ${path} lists ${entry.file}, which is not a file in --folder ${folder}`)
  }
  return entries
}

/** Image files in the truth's folders that the truth does not list: reported, not scored. */
const untruthed = async (folder: string, entries: readonly TruthEntry[]): Promise<readonly string[]> => {
  const listed = new Set(entries.map((e) => join(folder, e.file)))
  const dirs = [...new Set(entries.map((e) => dirname(join(folder, e.file))))].sort()
  const extra: string[] = []
  for (const dir of dirs) {
    const names = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const d of names) {
      const path = join(dir, d.name)
      if (d.isFile() && imageExtensions.includes(extname(d.name).toLowerCase()) && !listed.has(path)) extra.push(relative(folder, path))
    }
  }
  return extra.sort()
}

/**
 * `tta-lens eval -t detection`: every policy on every image of the truth file, boxes scored at
 * `--iou` (default 0.5) class by class, and each policy compared with `none` (images better and
 * worse by F1, exact sign test; the F1 difference with a paired bootstrap interval). Prints a table;
 * exit 1 when an image could not be scored (the table covers the rest), 2 for a refusal before work.
 * @category destructors
 */
export const evalDetectionCommand = async (o: DetectionEvalFlags, edges: DetectionEdges): Promise<void> => {
  const settings = edges.orFail(detectionSettings(o))
  if (o.folder === undefined) return edges.fail('eval -t detection needs --folder DIR (the images) and a truth file: --truth FILE, default DIR/truth.json')
  const iou = typeof o.iou === 'number' && o.iou > 0 && o.iou <= 1 ? o.iou : o.iou === undefined ? 0.5 : edges.fail(`--iou must be a number in (0, 1], got ${String(o.iou)}`)
  const folder = o.folder
  const truthPath = o.truth ?? join(folder, 'truth.json')
  const policies = o.policies.split(/\s+|;/).filter((p) => p !== '').map((name) => ({ name, product: edges.orFail(parsePolicy(name)) }))
  if (policies[0]?.name !== 'none') policies.unshift({ name: 'none', product: edges.orFail(parsePolicy('none')) })
  if (settings.fusion.weights !== undefined) edges.fail('--weights gives one weight per view of one policy: eval -t detection compares policies with different views, so it takes no weights')
  const listed = await loadTruth(truthPath, folder, edges)
  const extra = await untruthed(folder, listed)
  const entries = listed.slice(0, o.limit)
  const model = await edges.openModel()
  const detector = edges.orFail(detectionModel(model, settings))
  const runs = policies.map((p) => ({ ...p, tta: wrap.detection(detector.model, p.product, { ...edges.execution, fusion: settings.fusion, minScore: settings.minScore }) }))
  const scores = runs.map((): BoxScore[] => [])
  const ms = runs.map(() => 0)
  const failures: string[] = []
  const bar = edges.progress(entries.length * runs.length, 'eval')
  for (const entry of entries) {
    const path = join(folder, entry.file)
    const image = await readImage(path, edges.preprocess)
    const fits = E.isLeft(image) ? image : checkTruthFits(entry, image.right.width, image.right.height)
    if (E.isLeft(image) || E.isLeft(fits)) {
      failures.push(`${entry.file}: ${E.isLeft(image) ? image.left.message : E.isLeft(fits) ? fits.left.message : ''}`)
      bar.increment(runs.length)
      continue
    }
    const found: BoxScore[] = []
    let failed: string | undefined
    for (const [k, r] of runs.entries()) {
      bar.increment(0, { item: `${r.name} ${entry.file}` })
      const t0 = performance.now()
      const result = await r.tta.run(image.right.tensor)()
      ms[k] = (ms[k] ?? 0) + performance.now() - t0
      bar.increment()
      if (E.isLeft(result)) { failed = `${r.name}: ${result.left._tag}: ${result.left.message}`; break }
      const [fused = boxes.empty] = result.right
      found.push(scoreLabelled(fused, entry, iou))
    }
    if (failed !== undefined) { failures.push(`${entry.file}: ${failed}`); continue }
    found.forEach((s, k) => scores[k]?.push(s))
  }
  bar.stop()
  await model.release()
  for (const name of extra) process.stderr.write(`skipped: ${name}: not in the truth file ${truthPath}\n`)
  for (const f of failures) process.stderr.write(`failed: ${f.replace(/\s*\n\s*/g, ' ')}\n`)
  const scored = scores[0]?.length ?? 0
  if (scored === 0) return edges.fail(`no image could be scored (${failures.length} failed)`)
  const base = setScore(scores[0] ?? [], iou)
  const pct = (v: number): string => (100 * v).toFixed(1)
  process.stdout.write(`${scored} images, ${base.total.tp + base.total.fn} truth boxes · boxes matched at IoU ≥ ${iou}, class by class · fusion ${settings.fusion.method}${settings.minScore > 0 ? `, min score ${settings.minScore}` : ''} · head ${String(detector.head['name'])}\n`)
  process.stdout.write(`${'policy'.padEnd(28)}${'views'.padStart(6)}${'P'.padStart(7)}${'R'.padStart(7)}${'F1'.padStart(7)}${'better'.padStart(8)}${'worse'.padStart(7)}  ${'sign test'.padEnd(12)}${'ΔF1 95% CI'.padEnd(18)}${'ms/image'.padStart(9)}\n`)
  for (const [k, r] of runs.entries()) {
    const s = setScore(scores[k] ?? [], iou)
    const c = k === 0 ? undefined : compareDetections(s, base)
    const cmp = c === undefined ? undefined : E.isRight(c) ? c.right : undefined
    const ci = cmp === undefined ? '—' : `${cmp.deltaF1 >= 0 ? '+' : ''}${pct(cmp.deltaF1)} [${pct(cmp.interval[0])}, ${pct(cmp.interval[1])}]`
    process.stdout.write(`${r.name.padEnd(28)}${String(views(r.product).length).padStart(6)}${pct(s.total.precision).padStart(7)}${pct(s.total.recall).padStart(7)}${pct(s.total.f1).padStart(7)}` +
      `${(cmp === undefined ? '—' : String(cmp.better)).padStart(8)}${(cmp === undefined ? '—' : String(cmp.worse)).padStart(7)}  ${(cmp === undefined ? '—' : showP(cmp.signP)).padEnd(12)}${ci.padEnd(18)}${((ms[k] ?? 0) / scored).toFixed(0).padStart(9)}\n`)
  }
  process.stdout.write('better/worse: images whose F1 rose/fell against "none"; sign test: exact, two-sided; ΔF1: F1 minus none\'s, 95% paired bootstrap interval (images resampled).\n')
  process.exitCode = failures.length > 0 ? 1 : 0
}
