/**
 * `npm run bench [-- section…]`: benchmarks of the execution layer. With no section it runs them
 * all and writes docs/benchmarks.md; with sections it prints their markdown to stdout only, or with
 * `--write` replaces just those sections (their tables, target rows and analysis paragraphs) in
 * docs/benchmarks.md, stamped with when and where they were measured.
 * `BENCH_QUICK=1` runs one or a few rounds (to check the script, not to read the numbers).
 *
 * Sections: augment, segmentation, classifier, memory, fusion, policy, browser, queue, detection.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { augmentSection } from './sections/augment.js'
import { browserSection } from './sections/browser.js'
import { classifierSection } from './sections/classifier.js'
import { detectionSection } from './sections/detection.js'
import { fusionSection } from './sections/fusion.js'
import { memorySection } from './sections/memory.js'
import { segmentationSection } from './sections/segmentation.js'
import { policySection } from './sections/policy.js'
import { queueSection } from './sections/queue.js'
import { environment, loadavg } from './lib/env.js'
import { table, type SectionResult } from './lib/report.js'

const sections: readonly { id: string; title: string; run: (quick: boolean) => Promise<SectionResult> }[] = [
  { id: 'augment', title: 'Augment: 8 d4 views into one batch (a, d)', run: augmentSection },
  { id: 'segmentation', title: 'd4 segmentation end to end on unetish_512 (b, c, d)', run: segmentationSection },
  { id: 'classifier', title: 'Classification end to end: the test classifier (d4) and the Fashion-MNIST CNN (b, c)', run: classifierSection },
  { id: 'memory', title: 'Peak memory against the number of views (e)', run: memorySection },
  { id: 'fusion', title: 'Box fusion: 8 views × 300 boxes × 5 classes (f)', run: fusionSection },
  { id: 'policy', title: 'Policy search: 20 candidate views on 5,000 Fashion-MNIST images (g)', run: policySection },
  { id: 'browser', title: 'In the browser: kernels on WebGL2/WebGPU, onnxruntime-web, page load, bundle size', run: browserSection },
  { id: 'queue', title: 'Queue mode and all cores: one worker over Redis against one process (q)', run: queueSection },
  { id: 'detection', title: 'Detection end to end: PP-OCRv4 text detection with box fusion (h)', run: detectionSection },
]

const quick = process.env['BENCH_QUICK'] === '1'
const writeSections = process.argv.includes('--write')
const asked = process.argv.slice(2).filter((a) => a !== '--write')
const unknown = asked.filter((a) => !sections.some((s) => s.id === a))
if (unknown.length > 0) {
  console.error(`unknown section(s) ${unknown.join(', ')}; choose from ${sections.map((s) => s.id).join(', ')}`)
  process.exit(2)
}
const chosen = asked.length === 0 ? sections : sections.filter((s) => asked.includes(s.id))
const env = environment()
const started = performance.now()
const results: { id: string; title: string; result: SectionResult; seconds: number }[] = []
for (const s of chosen) {
  process.stderr.write(`${s.id}…\n`)
  const t0 = performance.now()
  const result = await s.run(quick)
  results.push({ id: s.id, title: s.title, result, seconds: (performance.now() - t0) / 1000 })
}
const seconds = (performance.now() - started) / 1000
const loadAfter = loadavg()

const targets = results.flatMap((r) => r.result.targets)
const doc = [
  '# Benchmarks',
  '',
  'Benchmarks of the execution layer (plan → backend kernels → model calls → deaugment + merge), made by',
  '`npm run bench` (bench/run.ts), which writes this file. Ratios compare variants measured in **one',
  'process, interleaved**: every round runs each variant once, in a rotated order (A,B,C · B,C,A · …),',
  'after untimed warm-up rounds; tables give the median and the minimum per variant and the ratio of',
  'medians (and of minimums) to a baseline. Before each round (short variants) or each sample (the',
  '1-second segmentation runs) a quiet gate (bench/lib/quiet.ts) waits, within a fixed time budget,',
  'until other processes use under a quarter of the CPU; each table says how often that happened.',
  'Nothing here is asserted by the test suite.',
  '',
  '## Machine',
  '',
  table(['', ''], [
    ['CPU (`os.cpus()[0].model`)', env.cpu],
    ['cores', String(env.cores)],
    ['memory', env.memory],
    ['platform', env.platform],
    ['Node', env.node],
    ['onnxruntime-node', env.onnxruntime],
    ['gpu.js', env.gpujs],
    ['date', env.date],
    ['commit', env.commit],
    ['load average (1/5/15 min) before / after', `${env.loadBefore.map((x) => x.toFixed(2)).join(' / ')} — ${loadAfter}`],
    ['wall time of the whole bench', `${seconds.toFixed(0)} s (${results.map((r) => `${r.id} ${r.seconds.toFixed(0)} s`).join(', ')})`],
  ], ['l', 'l']),
  '',
  ['The load average before the bench is what earlier work left, and during it mostly the bench itself (2',
    'onnxruntime threads); whether other processes used the CPU while a table was measured is in that table\'s',
    'quiet-gate line. Single samples still vary: read the medians and the ratios, and the minimums as the best',
    'case without interference.'].join('\n'),
  quick ? '\n**BENCH_QUICK=1: one or a few rounds only — these numbers are a smoke test, not a measurement.**\n' : '',
  ...results.flatMap((r) => [`## ${r.title}`, '', r.result.markdown, '']),
  '## Targets',
  '',
  table(['', 'target', 'measured', ''], targets.map((t) => [t.id, t.target, t.measured, t.met === undefined ? '—' : t.met ? '**met**' : '**missed**']), ['l', 'l', 'l', 'l']),
  '',
  '## Analysis',
  '',
  ...results.flatMap((r) => r.result.analysis.flatMap((a) => [a, ''])),
  '## Changes made while benchmarking',
  '',
  'Found by these benchmarks and fixed in `src/plan/run.ts` (the `run` interpreter); `npx vitest run spec/backend spec/plan spec/e2e` passes after them:',
  '',
  '1. **Finalize was slow.** The merged result was made with `Float32Array.from(acc, (v) => v / n)` (and `Math.exp(v / n)` for gmean). A mapping function makes `TypedArray.from` go through its generic path: about 100–200 ms for the 2×512×512 merge of a d4 segmentation run on this machine, against 3–7 ms for a plain loop. Now a plain loop (same float64 division, then float32 rounding: identical values). `src/merge/merge.ts` has the same pattern in `accumulator(…).result()`, which the plan interpreter does not use for mean/gmean/tsharpen; it is left as it is.',
  '2. **A batch buffer per chunk shape was kept for the whole run.** With a budget, a group of views splits into full chunks and a remainder (e.g. 9+9+9+5); the interpreter kept a buffer per shape in a map, so both the full chunk\'s and the remainder\'s inputs stayed allocated, past the plan\'s estimate. Now one buffer, replaced when the shape changes.',
  '3. **The previous chunk\'s prediction stayed alive during the next model call.** `output` and block-scoped views of it (`const called`, `const out`, `const block`, `let values`) kept their last values while the async interpreter was suspended in the next `callModel`, so two predictions were live at once (measured: 70 MiB live at V = 32 under a 64 MiB budget, 52 MiB after the fix, with a forced-GC probe like the memory child\'s). They are now variables cleared before each model call.',
  '4. **A fresh WebAssembly memory per run faulted its pages in.** With the model input held by the js backend (`Backend.batch`, in WebAssembly memory), the first segmentation run of this change measured augment at 103 ms a run (12.8 ms before it): every run made a new memory, and touching 32 MiB of fresh pages takes ~100 ms on this machine (a plain array\'s pages are reused by the allocator). Fixed in `src/plan/run.ts` and `src/backend/wasm.ts`: the interpreter hands the input back (`BatchBuffer.release`) when the run ends or before the next chunk\'s, and the backend keeps the last block for the next batch (one at most, only within the next request\'s budget); re-measured, augment 2.61 ms a run.',
  '',
  'Found by the queue section (q) and fixed in `src/queue/producer.ts`; `npx vitest run spec/queue` passes after it:',
  '',
  '5. **The producer\'s wait cost Redis a script call per pending job on every poll.** It asked BullMQ for the state of every unfinished job each poll, so the cost grew with jobs × polls: on the 2,000-image run (125 jobs, the bench\'s 100 ms poll then) Redis ran 129,000–212,000 commands per run (65–106 per image, INFO commandstats) and the producer took 2–3 s of CPU, on the same 2 cores as the worker. The worker itself did the same work per image as one process: per-thread CPU from /proc and `node --cpu-prof` profiles showed the same functions and the same split between the main thread, libuv\'s and libvips\'s threads, and onnxruntime\'s pool thread stayed idle (no spinning). Now a poll is a few set lookups in one round trip (ZMSCORE over the completed and failed sets, EXISTS for vanished jobs, LRANGE for the active ones) and each finished job is read once: 5,838–6,509 commands per run at a 100 ms poll (about 3 per image), 2.5 per image at the CLI\'s 500 ms; spec/queue/producer.test.ts counts at most 6 commands per look with 300 pending jobs (about 1,900 before). The 1.73× CPU recorded before also mixed in the load: in that run the same one-process path took 16.1–29.6 CPU s for identical work. After the fix, two runs of the section (load 10–19): 3 rounds gave 1.18× wall and 1.09× CPU, 5 rounds (the one recorded above) 1.24× wall and 1.10× CPU; per-round ratios spread over 0.87–1.59× wall and 0.92–1.34× CPU, and the quietest round gave 1.01× wall, 0.94× CPU. The target is still recorded as missed on wall time; a quiet machine is needed to say whether the remaining few per cent (job fetches, progress saves, the last poll\'s wait) stay under 1.10.',
  '',
].join('\n')

/**
 * Puts one section's new results into the existing file: its body, the target rows with the same
 * target text (new ones after them), and the analysis paragraphs with the same bold label.
 */
const splice = (text: string, r: (typeof results)[number]): string => {
  const head = `## ${r.title}\n\n`
  const start = text.indexOf(head)
  const end = text.indexOf('\n## ', start + head.length)
  if (start < 0 || end < 0) throw new Error(`docs/benchmarks.md has no section "${r.title}": run the whole bench`)
  const stamp = `Re-measured on its own with \`npm run bench -- ${r.id} --write\` on ${env.date} at commit ${env.commit} (load average ${env.loadBefore.map((x) => x.toFixed(2)).join(' / ')} before, ${loadAfter} after, on a machine shared with other work); the rest of this file is from the run in the Machine table.`
  let out = `${text.slice(0, start + head.length)}${stamp}\n\n${r.result.markdown}\n${text.slice(end)}`
  const replaceBlocks = (lines: readonly string[], isOld: (line: string) => boolean, fresh: readonly string[]): string[] => {
    const at = lines.findIndex(isOld)
    const kept = lines.filter((l) => !isOld(l))
    return at < 0 ? [...kept, ...fresh] : [...kept.slice(0, at), ...fresh, ...kept.slice(at)]
  }
  const rows = r.result.targets.map((t) => table(['', 'target', 'measured', ''], [[t.id, t.target, t.measured, t.met === undefined ? '—' : t.met ? '**met**' : '**missed**']]).split('\n')[2] ?? '')
  const targetsOf = new Set(r.result.targets.map((t) => t.target))
  const [beforeTargets = '', afterTargets = ''] = out.split('\n## Targets\n')
  const tableEnd = afterTargets.indexOf('\n\n', afterTargets.indexOf('| ---'))
  const targetLines = replaceBlocks(afterTargets.slice(0, tableEnd).split('\n'), (l) => [...targetsOf].some((t) => l.includes(`| ${t} |`)), rows)
  out = `${beforeTargets}\n## Targets\n${targetLines.join('\n')}${afterTargets.slice(tableEnd)}`
  const label = (p: string): string => /^\*\*[^*]+\*\*/.exec(p)?.[0] ?? p
  const labels = new Set(r.result.analysis.map(label))
  const [beforeAnalysis = '', afterAnalysis = ''] = out.split('\n## Analysis\n\n')
  const analysisEnd = afterAnalysis.indexOf('\n## ')
  const paragraphs = replaceBlocks(afterAnalysis.slice(0, analysisEnd).trimEnd().split('\n\n'), (p) => labels.has(label(p)), r.result.analysis)
  return `${beforeAnalysis}\n## Analysis\n\n${paragraphs.join('\n\n')}\n${afterAnalysis.slice(analysisEnd)}`
}

const docPath = new URL('../docs/benchmarks.md', import.meta.url)
if (asked.length === 0) {
  writeFileSync(docPath, doc)
  process.stderr.write(`wrote docs/benchmarks.md (${seconds.toFixed(0)} s)\n`)
} else if (writeSections) {
  writeFileSync(docPath, results.reduce(splice, readFileSync(docPath, 'utf8')))
  process.stderr.write(`replaced ${results.map((r) => r.id).join(', ')} in docs/benchmarks.md (${seconds.toFixed(0)} s)\n`)
} else {
  console.log(doc)
}
