/**
 * The `tta-lens` command line: `run` (images or folders in, predictions out), `eval` (accuracy
 * per policy on a labelled IDX set or class folders), `explain` (the plan, dry-run against the
 * model), `bench` (single pass vs TTA). Everything here calls the library; the CLI only parses,
 * reads, writes and reports.
 *
 * @since 0.3.0
 */
import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { SingleBar, Presets } from 'cli-progress'
import * as E from 'fp-ts/lib/Either.js'
import {
  buildPlan, checkCount, dryRun, explain, limits, mergeModes, parseBudget, parsePolicy, productFromConfig, showP, taskFits, tensor, views, wrap,
  type AnyFactor, type MergeMode, type Product, type TtaError, type ExecutionOptions, type BackendName,
} from '../index.js'
import { checkPreprocess, type Preprocess } from '../io/image.js'
import { cleanUpOnInterrupt, collectInputs, jobState, planJobs, prepareOutputFolder } from '../io/files.js'
import { onnx } from '../node.js'
import { evaluateClassifier, type LabelledSet } from '../eval/classify.js'
import { fileRunner, outputSuffixes } from '../batch/files-run.js'
import { imageExtensions, loadLabelledSet, type PolicyRow } from '../batch/eval-shards.js'
import type { EvalSpec, RunSpec } from '../batch/spec.js'
import { evalOnQueue, evalOnThreads, preflight, readConfigJson, registerQueueCommands, runOnQueue, runOnThreads, threadsPerWorker, withDistributed, type DistributedFlags } from './queue.js'
import { showBytes } from '../plan/budget.js'
import { packageVersion } from '../io/package.js'
import { readPolicy } from '../io/policy-files.js'
import { defaultPool, evalPolicyCommand, loadSet, searchCommand, type CliEdges, type SetFlags } from './policy.js'
import { detectionModel, detectionSettings, evalDetectionCommand, withDetectionFlags, type DetectionEvalFlags, type DetectionFlags } from './detection.js'
import { checkDetectionViews, type DetectionSettings } from '../batch/detection-files.js'
import type { FusionOptions } from '../boxes/fusion-options.js'

type Task = 'classification' | 'segmentation' | 'keypoints' | 'detection'

/** Every message the CLI prints about a failure is one line (newlines in a cause are folded). */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim()

/** A usage error or a refusal before any work: one line, exit 2. */
const fail = (message: string): never => {
  process.stderr.write(`tta-lens: ${oneLine(message)}\n`)
  process.exit(2)
}
const orFail = <A>(either: E.Either<TtaError, A>): A => (E.isLeft(either) ? fail(`${either.left._tag}: ${either.left.message}`) : either.right)

const numbers = (value: string): readonly number[] => {
  const list = value.split(',').map((v) => (v.trim() === '' ? Number.NaN : Number(v)))
  if (list.some((v) => !Number.isFinite(v))) throw new InvalidArgumentError(`expected comma-separated numbers, got '${value}'`)
  return list
}
const hw = (value: string): readonly [number, number] => {
  const m = /^(\d+)x(\d+)$/.exec(value)
  if (m === null) throw new InvalidArgumentError(`expected HEIGHTxWIDTH, got '${value}'`)
  return [Number(m[1]), Number(m[2])]
}
const positive = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`)
  return n
}
/** A count with a stated limit (threads, runs): the library's own check, as a flag parser. */
const counted = (what: string, max: number) => (value: string): number => {
  const checked = checkCount(what, Number(value), max)
  if (E.isLeft(checked)) throw new InvalidArgumentError(checked.left.message.replace(/got NaN$/, `got '${value}'`))
  return checked.right
}
const shapeArg = (value: string): readonly number[] => {
  if (!/^\d+(x\d+)*$/.test(value)) throw new InvalidArgumentError(`expected NxCxHxW, got '${value}'`)
  return value.split('x').map((d) => positive(d))
}

interface Common extends DetectionFlags {
  readonly model: string
  readonly task: Task
  readonly tta: string
  readonly config?: string
  readonly merge: MergeMode
  readonly budget?: string
  readonly threads?: number
  readonly backend: BackendName
  readonly outputName?: string
  readonly channels: 1 | 3
  readonly size?: readonly [number, number]
  readonly mean?: readonly number[]
  readonly std?: readonly number[]
  readonly bgr?: boolean
  readonly coordinates: 'pixels' | 'normalized'
}

const withCommon = (command: Command): Command => command
  .requiredOption('-m, --model <file.onnx>', 'ONNX model (one image input)')
  .addOption(new Option('-t, --task <task>', 'what the model predicts').choices(['classification', 'segmentation', 'keypoints', 'detection']).default('classification'))
  .option('--tta <policy>', 'transforms: none, hflip, vflip, flip, d4, rotate90:A,B, multiscale:K,K[/mode], scale:K[/mode], fivecrop:HxW, tencrop:HxW, shifts:PX, joined with +', 'd4')
  .option('--config <file.json>', 'transforms as JSON ({"transforms": [...]}), instead of --tta')
  .addOption(new Option('--merge <mode>', 'how views are merged').choices([...mergeModes]).default('mean'))
  .option('--budget <bytes>', "memory budget, e.g. '512MiB' (sets how many views share a model call)")
  .option('--threads <n>', `onnxruntime intra-op threads (1 to ${limits.maxThreads})`, counted('threads', limits.maxThreads))
  .addOption(new Option('--backend <name>', 'where kernels run').choices(['js', 'reference', 'gpujs']).default('js'))
  .option('--output-name <name>', 'model output to use (default: the first)')
  .addOption(new Option('--channels <n>', 'decode images as 1 (grey) or 3 (RGB) channels').default(3).argParser((v): 1 | 3 => {
    if (v !== '1' && v !== '3') throw new InvalidArgumentError(`expected 1 or 3, got '${v}'`)
    return v === '1' ? 1 : 3
  }))
  .option('--size <HxW>', 'resize images to HEIGHTxWIDTH before the model', hw)
  .option('--mean <a,b,c>', 'per-channel mean, subtracted after scaling pixels to 0..1', numbers)
  .option('--std <a,b,c>', 'per-channel std, divided after subtracting the mean', numbers)
  .option('--bgr', 'feed channels in BGR order')
  .addOption(new Option('--coordinates <kind>', 'keypoint outputs are in pixels or normalised').choices(['pixels', 'normalized']).default('pixels'))

const policyOf = async (options: Common): Promise<Product<readonly AnyFactor[]>> => {
  if (options.config === undefined) return orFail(parsePolicy(options.tta))
  let json: unknown
  try {
    const info = await stat(options.config)
    if (!info.isFile()) return fail(`cannot read the transform config ${options.config}: not a file`)
    if (info.size > 1 << 20) return fail(`cannot read the transform config ${options.config}: ${info.size} bytes is more than a config may have (1 MiB)`)
    json = JSON.parse(await readFile(options.config, 'utf8'))
  } catch (e) {
    return fail(`cannot read the transform config ${options.config}: ${e instanceof Error ? e.message : String(e)}`)
  }
  return orFail(E.mapLeft((e: TtaError) => ({ ...e, message: e.message.replace(/^transform config/, `--config ${options.config}`) }))(productFromConfig(json)))
}

/** Everything a command's flags say, checked before any file is read or any model loaded. */
const checkCommon = (o: Common): void => {
  orFail(checkPreprocess(preprocessOf(o)))
  if (o.task === 'detection') orFail(detectionSettings(o))
  if (o.budget !== undefined) orFail(E.mapLeft((e: TtaError) => ({ ...e, message: `--budget: ${e.message}` }))(parseBudget(o.budget)))
}

const preprocessOf = (o: Common): Preprocess => ({
  channels: o.channels,
  ...(o.size === undefined ? {} : { size: o.size }),
  ...(o.mean === undefined ? {} : { mean: o.mean }),
  ...(o.std === undefined ? {} : { std: o.std }),
  ...(o.bgr === true ? { bgr: true } : {}),
})

const executionOf = (o: Common): ExecutionOptions => ({ backend: o.backend, ...(o.budget === undefined ? {} : { budget: o.budget }) })

const openModel = async (o: Common) =>
  orFail(await onnx.open(o.model, { ...(o.outputName === undefined ? {} : { output: o.outputName }), ...(o.threads === undefined ? {} : { threads: o.threads }) })())

const progress = (total: number, label: string): SingleBar => {
  const bar = new SingleBar({ format: `${label} {bar} {value}/{total} {item}`, hideCursor: true, noTTYOutput: false, stream: process.stderr }, Presets.shades_classic)
  bar.start(total, 0, { item: '' })
  return bar
}

const runCommand = async (inputs: readonly string[], o: Common & DistributedFlags & { readonly out: string; readonly force?: boolean; readonly policy?: string }): Promise<void> => {
  // Everything that can be refused is refused before any work: flags, policy, Redis, output folder, model.
  checkCommon(o)
  if (o.task === 'detection' && o.policy !== undefined) fail('a policy file (--policy) is for classification or segmentation; -t detection takes --tta or --config')
  const product = o.policy === undefined ? await policyOf(o) : orFail(await readPolicy(o.policy))
  const detection = o.task === 'detection' ? orFail(detectionSettings(o)) : undefined
  if (detection !== undefined && !('_tag' in product && product._tag === 'Policy')) orFail(checkDetectionViews(detection, product, o.config ?? o.tta))
  await preflight(o.queue)
  const model = await openModel(o)
  orFail(taskFits(o.task, model.signature.output))
  if (detection !== undefined) orFail(detectionModel(model, detection))
  orFail(await prepareOutputFolder(o.out))
  const suffixes = outputSuffixes(o.task)
  const { files, missing } = await collectInputs(inputs, { extensions: imageExtensions, outDir: o.out, outputSuffixes: suffixes })
  const { jobs, refused } = planJobs(files, o.out, suffixes)
  const failures: string[] = [...missing.map((m) => `${m}: no such file or folder`), ...refused.map((r) => `${r.input}: ${r.error.message}`)]
  cleanUpOnInterrupt((signal) => process.stderr.write(`\ntta-lens: interrupted by ${signal}; finished outputs are kept, no partial file is left\n`))
  let done = 0
  let skipped = 0
  if (o.queue !== undefined || (o.workers ?? 1) > 1) {
    // Many cores or machines: the same checks and resume rule here, the same runner in each worker.
    await model.release()
    const todo = new Set<string>()
    for (const job of jobs) {
      const state = await jobState(job, o.force === true ? { force: true } : {})
      if (E.isLeft(state)) failures.push(`${job.input}: ${state.left.message}`)
      else if (state.right === 'done') skipped++
      else todo.add(job.input)
    }
    const handOver = { spec: await runSpecOf(o, suffixes, detection), jobs, todo, skipped, failures, progress: (total: number) => barOf(progress(total, 'run')) }
    return o.queue !== undefined ? runOnQueue({ ...o, queue: o.queue }, handOver) : runOnThreads({ ...o, workers: o.workers ?? 1 }, handOver)
  }
  const bar = progress(jobs.length, 'run')
  const runner = fileRunner({
    task: o.task, preprocess: preprocessOf(o), policyLabel: o.policy ?? o.config ?? o.tta, merge: o.merge, coordinates: o.coordinates,
    execution: executionOf(o), force: o.force === true, ...(detection === undefined ? {} : { detection }),
  }, model, product)
  // One job at a time; whatever goes wrong with one input fails that input, never the batch.
  for (const job of jobs) {
    bar.increment(0, { item: basename(job.input) })
    const outcome = await runner.run(job)
    if (outcome.status === 'written') done++
    else if (outcome.status === 'skipped') skipped++
    else failures.push(`${job.input}: ${outcome.reason}`)
    bar.increment()
  }
  bar.stop()
  for (const f of failures) process.stderr.write(`failed: ${oneLine(f)}\n`)
  process.stdout.write(`${done} written, ${skipped} already done (skipped), ${failures.length} failed → ${o.out}\n`)
  await model.release()
  process.exitCode = failures.length > 0 ? 1 : 0
}

/** The evaluation table, one row per policy; the first is the baseline of fixed, broken and McNemar. */
const printTable = (rows: readonly Pick<PolicyRow, 'policy' | 'views' | 'accuracy' | 'fixed' | 'broken' | 'p' | 'msPerImage'>[]): void => {
  process.stdout.write(`${'policy'.padEnd(28)}${'views'.padStart(6)}${'accuracy'.padStart(10)}${'fixed'.padStart(7)}${'broken'.padStart(8)}  ${'McNemar'.padEnd(12)}${'ms/image'.padStart(9)}\n`)
  for (const [i, r] of rows.entries()) {
    const baseline = i === 0
    process.stdout.write(`${r.policy.padEnd(28)}${String(r.views).padStart(6)}${`${(100 * r.accuracy).toFixed(2)}%`.padStart(10)}${(baseline ? '—' : String(r.fixed)).padStart(7)}${(baseline ? '—' : String(r.broken)).padStart(8)}  ${(baseline ? '—' : showP(r.p)).padEnd(12)}${r.msPerImage.toFixed(3).padStart(9)}\n`)
  }
}

/** The cli-progress bar as the distributed modes drive it. */
const barOf = (bar: SingleBar) => ({ update: (value: number) => bar.update(value), stop: () => bar.stop() })

/** Model, merge, backend and preprocessing, as a spec holds them. */
const modelSpecOf = (o: Common & DistributedFlags) => {
  const threads = o.threads ?? (o.workers !== undefined && o.workers > 1 ? threadsPerWorker(o.workers) : undefined)
  return {
    version: packageVersion(), cwd: process.cwd(), model: o.model, merge: o.merge, backend: o.backend,
    preprocess: { channels: o.channels, ...(o.size === undefined ? {} : { size: o.size }), ...(o.mean === undefined ? {} : { mean: o.mean }), ...(o.std === undefined ? {} : { std: o.std }), ...(o.bgr === true ? { bgr: true } : {}) },
    ...(o.budget === undefined ? {} : { budget: o.budget }),
    ...(threads === undefined ? {} : { threads }),
    ...(o.outputName === undefined ? {} : { outputName: o.outputName }),
  }
}

const runSpecOf = async (o: Common & DistributedFlags & { readonly out: string; readonly force?: boolean; readonly policy?: string }, suffixes: readonly string[], detection: DetectionSettings | undefined): Promise<RunSpec> => ({
  kind: 'run', ...modelSpecOf(o), task: o.task,
  // A searched policy travels as its file's JSON (already read and checked above), so workers need no copy of the file.
  policy: o.policy !== undefined ? { file: await readConfigJson(o.policy), label: o.policy }
    : o.config === undefined ? { tta: o.tta, label: o.tta } : { config: await readConfigJson(o.config), label: o.config },
  out: o.out, suffixes, coordinates: o.coordinates, force: o.force === true,
  ...(detection === undefined ? {} : { detection }),
})

const evalSpecOf = async (o: Common & DistributedFlags & { readonly batch: number }, policies: readonly string[], source: EvalSpec['source']): Promise<EvalSpec> => ({
  kind: 'eval', ...modelSpecOf(o), policies, source, batch: o.batch,
})

const evalCommand = async (o: Common & SetFlags & DistributedFlags & DetectionEvalFlags & { readonly idx?: readonly string[]; readonly folder?: string; readonly policies: string; readonly limit?: number; readonly batch: number; readonly policy?: string; readonly uncertainty?: boolean; readonly earlyExit?: readonly number[]; readonly minViews?: number }): Promise<void> => {
  checkCommon(o)
  if (o.task === 'detection') {
    if (o.idx !== undefined || o.policy !== undefined) fail('eval -t detection takes --folder with a truth file and --policies (not --idx or --policy)')
    if (o.queue !== undefined || o.workers !== undefined) fail('eval -t detection runs in one process: --queue and --workers are for classification sets (use run -t detection --workers N for boxes per image)')
    return evalDetectionCommand(o, { fail, orFail, openModel: () => openModel(o), execution: executionOf(o), preprocess: preprocessOf(o), progress })
  }
  if (o.policy !== undefined && (o.queue !== undefined || (o.workers ?? 1) > 1)) fail('eval --policy runs in one process: --queue and --workers are not supported with it yet')
  if (o.policy !== undefined) return evalPolicyCommand({ ...o, policy: o.policy }, edgesOf(o))
  if (o.split !== undefined && o.idx === undefined) fail('--split cuts an --idx set: pass --idx IMAGES LABELS')
  if (o.idx === undefined && o.folder === undefined) fail('eval needs --idx IMAGES LABELS or --folder DIR')
  const policies = o.policies.split(/\s+|;/).filter((p) => p !== '').map((name) => ({ name, product: orFail(parsePolicy(name)) }))
  if (policies[0]?.name !== 'none') policies.unshift({ name: 'none', product: orFail(parsePolicy('none')) })
  await preflight(o.queue)
  const model = await openModel(o)
  if (o.idx !== undefined && o.idx.length !== 2) fail(`--idx takes two files, images then labels; got ${o.idx.length}`)
  const [imagesPath = '', labelsPath = ''] = o.idx ?? []
  let source: EvalSpec['source']
  let set: LabelledSet
  if (o.split !== undefined) {
    // An --idx set cut by a split file: the evaluation half unless --half says otherwise; shards carry the half's image indices.
    const half = await loadSet(o, edgesOf(o), 'evaluation')
    source = { idx: [imagesPath, labelsPath], indices: half.indices }
    set = half.set
  } else {
    const limit = o.limit === undefined ? {} : { limit: o.limit }
    source = o.idx !== undefined ? { idx: [imagesPath, labelsPath], ...limit } : { folder: o.folder ?? '', ...limit }
    const loaded = await loadLabelledSet(source, preprocessOf(o), (message) => process.stderr.write(`skipped: ${oneLine(message)}\n`))
    if (E.isLeft(loaded)) return fail(loaded.left)
    set = loaded.right
  }
  if (o.queue !== undefined || (o.workers ?? 1) > 1) {
    await model.release()
    const spec = await evalSpecOf(o, policies.map((p) => p.name), source)
    const handOver = { spec, images: set.shape[0], progress: (total: number) => barOf(progress(total, 'eval')), print: printTable }
    return o.queue !== undefined ? evalOnQueue({ ...o, queue: o.queue }, handOver) : evalOnThreads({ ...o, workers: o.workers ?? 1 }, handOver)
  }
  return evaluateAndPrint(o, model, set, policies)
}

/** Evaluates every policy on the set in this process and prints the table. */
const evaluateAndPrint = async (o: Common & { readonly batch: number }, model: Awaited<ReturnType<typeof openModel>>, set: LabelledSet, policies: readonly { readonly name: string; readonly product: Product<readonly AnyFactor[]> }[]): Promise<void> => {
  const bar = progress(policies.length * set.shape[0], 'eval')
  let finished = 0
  const results = orFail(await evaluateClassifier(model, set, policies, {
    ...executionOf(o), merge: o.merge, imagesPerRun: o.batch,
    onProgress: (policy, done, total) => { bar.update(finished + done, { item: policy }); if (done === total) finished += total },
  }))
  bar.stop()
  printTable(results)
  await model.release()
}

/** What the policy commands need from this file. */
const edgesOf = (o: Common): CliEdges => ({ fail, orFail, openModel: () => openModel(o), execution: executionOf(o) })

/** Detection's fusion and minimum score as plan options (nothing for other tasks). */
const fusionOf = (o: Common): { readonly fusion?: FusionOptions; readonly minScore?: number } => {
  if (o.task !== 'detection') return {}
  const { fusion, minScore } = orFail(detectionSettings(o))
  return { fusion, minScore }
}

const explainCommand = async (o: Common & { readonly shape: readonly number[] }): Promise<void> => {
  checkCommon(o)
  const product = await policyOf(o)
  const model = await openModel(o)
  const plan = orFail(buildPlan(o.task, views(product), o.shape, { merge: o.merge, ...(o.budget === undefined ? {} : { budget: o.budget }), signature: model.signature, ...fusionOf(o) }))
  const checked = dryRun(plan, model.signature)
  process.stdout.write(`${explain(plan)}\n`)
  if (E.isLeft(checked)) fail(`dry run: ${checked.left.message}`)
  else process.stdout.write(`dry run against the model's metadata [${model.signature.input?.join(',') ?? '?'}]: ok · result ${checked.right.result === undefined ? 'shape known after the first call' : `[${checked.right.result.join(',')}]`}\n`)
  await model.release()
}

const benchCommand = async (o: Common & { readonly shape: readonly number[]; readonly runs: number }): Promise<void> => {
  checkCommon(o)
  const product = await policyOf(o)
  // The plan checks the shape against the limits before the synthetic image is allocated.
  orFail(buildPlan(o.task, views(product), o.shape, { merge: o.merge, ...(o.budget === undefined ? {} : { budget: o.budget }) }))
  const model = await openModel(o)
  const [n = 1, c = 3, h = 224, w = 224] = o.shape
  const input = orFail(tensor([n, c, h, w], Float32Array.from({ length: n * c * h * w }, (_, i) => ((i * 2654435761) % 1000) / 1000)))
  const none = orFail(parsePolicy('none'))
  let runTta: () => Promise<unknown>
  let runSingle: () => Promise<unknown>
  if (o.task === 'detection') {
    // The single pass is the head on the image alone: the model and its post-processing once.
    const head = orFail(detectionModel(model, orFail(detectionSettings(o))))
    const tta = wrap.detection(head.model, product, { ...executionOf(o), ...fusionOf(o) })
    const single = wrap.detection(head.model, none, executionOf(o))
    runTta = () => tta.run(input)()
    runSingle = () => single.run(input)()
  } else {
    const tta = o.task === 'segmentation' ? wrap.segmentation(model, product, { ...executionOf(o), merge: o.merge })
      : wrap.classification(model, product, { ...executionOf(o), merge: o.merge })
    const single = wrap.classification(model, none, executionOf(o))
    runTta = () => tta.run(input)()
    runSingle = () => (o.task === 'segmentation' ? model(input) : single.run(input)())
  }
  const time = async (f: () => Promise<unknown>): Promise<number> => { const t = performance.now(); await f(); return performance.now() - t }
  await runTta()
  const passes: number[] = []
  const ttas: number[] = []
  for (let r = 0; r < o.runs; r++) {
    passes.push(await time(runSingle))
    ttas.push(await time(runTta))
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN
  const plan = orFail(buildPlan(o.task, views(product), [n, c, h, w], { merge: o.merge, ...(o.budget === undefined ? {} : { budget: o.budget }), ...fusionOf(o) }))
  process.stdout.write(`single pass: ${median(passes).toFixed(1)} ms · TTA (${plan.views.length} views, ${plan.chunks.length} calls): ${median(ttas).toFixed(1)} ms · ` +
    `${(median(ttas) / median(passes)).toFixed(2)}× · peak ≈ ${showBytes(plan.memory.peak)} (median of ${o.runs}, backend ${o.backend})\n`)
  await model.release()
}

const program = new Command()
  .name('tta-lens')
  .description('Test-time augmentation for ONNX image models')
  .version(packageVersion(), '-V, --version', 'print the version of tta-lens')
  // A usage error is one line and exit code 2, like every other refusal (help and version exit 0).
  .configureOutput({ outputError: (text, write) => write(`tta-lens: ${oneLine(text.replace(/^error: /, ''))} (see --help)\n`) })
  .exitOverride((e: CommanderError) => process.exit(e.exitCode === 0 ? 0 : 2))

withDetectionFlags(withDistributed(withCommon(program.command('run').description('predict with TTA for images or folders; outputs JSON (labels, keypoints, boxes) or PNG + NPY (masks)')), 16))
  .argument('<inputs...>', 'image files or folders')
  .requiredOption('-o, --out <dir>', 'where outputs go (a rerun skips outputs that exist)')
  .option('--force', 'recompute outputs that already exist')
  .option('--policy <file.json>', 'a searched policy (tta-lens search): its views, merge and calibration, instead of --tta/--merge')
  .action((inputs: string[], options: Common & DistributedFlags & { out: string; force?: boolean; policy?: string }) => runCommand(inputs, options))

withDetectionFlags(withDistributed(withCommon(program.command('eval').description('accuracy of TTA policies against no TTA on a labelled set (detection: P/R/F1 against a truth file)')), 500))
  .option('--idx <files...>', 'an IDX image file and an IDX label file (gzipped or not); pixels are scaled to 0..1')
  .option('--folder <dir>', 'one sub-folder of images per class, classes in name order (-t detection: the images the truth file names)')
  .option('--truth <file.json>', '-t detection: the truth file (default <folder>/truth.json; format in docs/detection.md)')
  .option('--iou <t>', '-t detection: IoU a box needs with a truth box to match it (default 0.5)', (v) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v))
  .option('--policies <list>', "policies separated by ';' or spaces, 'none' first", 'none;hflip;shifts:1;hflip+shifts:1;d4')
  .option('--limit <n>', 'use only the first n images', positive)
  .option('--batch <n>', 'images per run', positive, 500)
  .option('--policy <file.json>', 'measure a searched policy against no TTA (with --idx; instead of --policies)')
  .option('--split <split.json>', 'use one half of this split of the --idx set (see --half)')
  .addOption(new Option('--half <half>', 'the half of --split to use').choices(['selection', 'evaluation']).default('evaluation'))
  .option('--uncertainty', 'with --policy: also measure how well each uncertainty measure flags errors (AUROC)')
  .option('--early-exit <margins>', 'with --policy: also measure early exit at these margins, e.g. 0.5,0.9', numbers)
  .option('--min-views <n>', 'with --early-exit: views every input gets first (default 2)', positive)
  .action((options: Common & SetFlags & DistributedFlags & { idx?: string[]; folder?: string; policies: string; limit?: number; batch: number; policy?: string; uncertainty?: boolean; earlyExit?: number[]; minViews?: number }) => evalCommand(options))

program.command('search').description('search a TTA policy on a labelled selection set: greedy over candidate views and merges → a policy file')
  .requiredOption('-m, --model <file.onnx>', 'ONNX classifier (one image input, logits or probabilities out)')
  .requiredOption('--idx <files...>', 'an IDX image file and an IDX label file (gzipped or not); pixels are scaled to 0..1')
  .requiredOption('-o, --out <policy.json>', 'the policy file to write')
  .option('--split <split.json>', 'use one half of this split of the --idx set (see assets/fashion-mnist/split.json)')
  .addOption(new Option('--half <half>', 'the half of --split to search on').choices(['selection', 'evaluation']).default('selection'))
  .option('--candidates <pool>', `candidate views: items separated by ';', products by '*'`, defaultPool)
  .option('--max-views <n>', 'budget: most views in the policy (= model calls per input)', (v) => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`a search budget is a whole number of views ≥ 1 (model calls per input), got '${v}'`)
    return n
  }, 4)
  .addOption(new Option('--scores <kind>', 'what the model returns').choices(['logits', 'probabilities']).default('logits'))
  .option('--cache <dir>', 'where per-view predictions are kept (default: <out>.cache); a rerun reuses them')
  .option('--no-fit', 'do not try fitted weights')
  .option('--limit <n>', 'use only the first n items of the set', positive)
  .option('--batch <n>', 'images per run', positive, 1000)
  .option('--threads <n>', `onnxruntime intra-op threads (1 to ${limits.maxThreads})`, counted('threads', limits.maxThreads))
  .addOption(new Option('--backend <name>', 'where kernels run').choices(['js', 'reference', 'gpujs']).default('js'))
  .action((options: SetFlags & { model: string; out: string; candidates: string; maxViews: number; scores: 'logits' | 'probabilities'; cache?: string; batch: number; fit: boolean; threads?: number; backend: BackendName }) =>
    searchCommand(options, {
      fail, orFail, execution: { backend: options.backend },
      openModel: async () => orFail(await onnx.open(options.model, options.threads === undefined ? {} : { threads: options.threads })()),
    }))

withDetectionFlags(withCommon(program.command('explain').description('the plan in words, dry-run against the model before any data')))
  .requiredOption('--shape <NxCxHxW>', 'image shape', shapeArg)
  .action((options: Common & { shape: number[] }) => explainCommand(options))

withDetectionFlags(withCommon(program.command('bench').description('time a single pass against TTA on a synthetic image')))
  .requiredOption('--shape <NxCxHxW>', 'image shape', shapeArg)
  .option('--runs <n>', `timed repetitions (1 to ${limits.maxBenchRuns})`, counted('runs', limits.maxBenchRuns), 5)
  .action((options: Common & { shape: number[]; runs: number }) => benchCommand(options))

registerQueueCommands(program)

// The last line of defence: nothing reaches the user as a stack trace.
process.on('uncaughtException', (e) => fail(`internal error: ${e instanceof Error ? e.message : String(e)} (please report it)`))
process.on('unhandledRejection', (e) => fail(`internal error: ${e instanceof Error ? e.message : String(e)} (please report it)`))

await program.parseAsync(process.argv)
