/**
 * (g) The policy search on Fashion-MNIST: the pool of 20 candidate views (`standardPool`) on the
 * 5,000 images of the selection half, with the augmentation-trained CNN. Two parts: collecting
 * every candidate's predictions (20 passes of the model over the set, augmented by the library)
 * against its floor (the model called directly on the same images 20 times), interleaved; then the
 * greedy search on the cache (views × merges, temperature fits, the fitted merges' 2-fold
 * cross-validation), which never calls the model.
 */
import { readFileSync } from 'node:fs'
import { cpuUsage } from 'node:process'
import {
  collectPredictions, decodeIndexSplit, memoryStore, orThrow, parsePool, searchPolicy, standardPool, subset, tensor, viewName,
  type CachedPredictions, type LabelledSet,
} from '../../src/index.js'
import { readIdx } from '../../src/io/idx.js'
import { loadFashionCnn } from '../lib/models.js'
import { progress } from '../lib/progress.js'
import { quietGate } from '../lib/quiet.js'
import { commandLine, gateLine, ms, ratio, table, timingTable, type SectionResult } from '../lib/report.js'
import { byName, interleave, median } from '../lib/stats.js'

const fashionDir = new URL('../../assets/fashion-mnist/', import.meta.url).pathname
const BATCH = 1000

const selectionHalf = async (): Promise<LabelledSet> => {
  const images = orThrow(await readIdx(`${fashionDir}t10k-images-idx3-ubyte.gz`))
  const labels = orThrow(await readIdx(`${fashionDir}t10k-labels-idx1-ubyte.gz`))
  const all: LabelledSet = { shape: [10000, 1, 28, 28], images: Float32Array.from(images.data, (v) => v / 255), labels: labels.data }
  const split = orThrow(decodeIndexSplit(JSON.parse(readFileSync(`${fashionDir}split.json`, 'utf8')), 10000))
  return orThrow(subset(all, split.selection))
}

export const policySection = async (quick: boolean): Promise<SectionResult> => {
  const model = await loadFashionCnn()
  const set = await selectionHalf()
  const n = set.shape[0]
  const pool = orThrow(parsePool(standardPool, 28, 28))
  const gate = quietGate(quick ? 0 : 5000)
  const batches = Array.from({ length: Math.ceil(n / BATCH) }, (_, b) => orThrow(tensor([Math.min(BATCH, n - b * BATCH), 1, 28, 28], set.images.subarray(b * BATCH * 784, Math.min(n, (b + 1) * BATCH) * 784))))
  let cache: CachedPredictions | undefined
  const cpu = new Map<string, number[]>()
  const withCpu = (name: string, run: () => Promise<void>) => async (): Promise<void> => {
    const before = cpuUsage()
    await run()
    const used = cpuUsage(before)
    cpu.set(name, [...(cpu.get(name) ?? []), (used.user + used.system) / 1000])
  }
  const floorName = `floor: ${pool.length} × model on ${n} images (batches of ${BATCH})`
  const collectName = `collectPredictions: ${pool.length} views × ${n} images`
  const timings = await interleave([
    { name: floorName, run: withCpu(floorName, async () => { for (let v = 0; v < pool.length; v++) for (const x of batches) await model(x) }) },
    { name: collectName, run: withCpu(collectName, async () => { cache = orThrow(await collectPredictions(model, set, pool, { store: memoryStore(), imagesPerRun: BATCH })) }) },
  ], { rounds: quick ? 1 : 2, warmup: 0, onRound: progress('policy collect'), gate: { gate, per: 'round' } })
  await model.release()
  if (cache === undefined) throw new Error('the collection did not run')
  const cached = cache
  const searches: number[] = []
  const searchCpu: number[] = []
  let result = orThrow(searchPolicy(cached, set.labels, { budget: { views: 4 } }))
  for (let r = 0; r < (quick ? 1 : 3); r++) {
    await gate.wait()
    const before = cpuUsage()
    const t0 = performance.now()
    result = orThrow(searchPolicy(cached, set.labels, { budget: { views: 4 } }))
    searches.push(performance.now() - t0)
    const used = cpuUsage(before)
    searchCpu.push((used.user + used.system) / 1000)
  }
  const floor = byName(timings, floorName)
  const collect = byName(timings, collectName)
  const search = median(searches)
  const total = collect.median + search
  const cpuMedian = (name: string): number => median(cpu.get(name) ?? [])
  const minutes = (x: number): string => `${(x / 60000).toFixed(1)} min`
  return {
    markdown: [
      commandLine('policy'),
      '',
      `The pool (\`standardPool\`, ${pool.length} views: ${pool.map(viewName).join(', ')}) on the ${n.toLocaleString('en-US')} selection images of \`assets/fashion-mnist/split.json\`, cnn_aug.onnx with 2 onnxruntime threads; an in-memory store, so every view is computed.`,
      '',
      timingTable(timings, floorName),
      '',
      table(['part', 'wall, median (ms)', 'CPU (user + system, ms)', 'runs'], [
        [floorName, ms(floor.median), ms(cpuMedian(floorName)), String(floor.samples.length)],
        [collectName, ms(collect.median), ms(cpuMedian(collectName)), String(collect.samples.length)],
        ['searchPolicy on the cache (budget 4 views)', ms(search), ms(median(searchCpu)), String(searches.length)],
        ['collection + search', ms(total), '', ''],
      ], ['l', 'r', 'r', 'r']),
      '',
      `The search chose ${result.views.length} view${result.views.length === 1 ? '' : 's'} (${result.views.map((v) => viewName(pool[v] ?? [])).join(', ')}) with ${result.merge.mode === 'sum' ? 'fitted weights' : `${result.merge.mode} of ${result.merge.over}`} in ${result.steps.length - 1} step${result.steps.length === 2 ? '' : 's'}.`,
      '',
      gateLine(gate, 'interleaved rounds and search runs'),
    ].join('\n'),
    targets: [{
      id: '(g)',
      target: 'policy search, 20 candidate views on 5,000 Fashion-MNIST images, in minutes on 2 cores',
      measured: `${minutes(total)} (collection ${minutes(collect.median)}, ${ratio(collect.median / floor.median)} its model floor; search ${(search / 1000).toFixed(1)} s)`,
      met: total < 5 * 60000,
    }],
    analysis: [
      `**Policy search (g).** Collecting the 20 candidates' predictions is 20 passes of the model over the 5,000 images, and costs ${ratio(collect.median / floor.median)} the floor of calling the model directly 20 times on the unaugmented images (${ms(collect.median)} against ${ms(floor.median)} ms, medians): the library's augment, its checks and the cache are the rest. The greedy search then works on the cache only — ${pool.length} candidates × ${6} uniform merges per step, each with a temperature fit, then the fitted merges' cross-validation — in ${(search / 1000).toFixed(1)} s. A rerun with the CLI's folder store (\`tta-lens search --cache\`) skips the collection for every view already stored.`,
    ],
  }
}
