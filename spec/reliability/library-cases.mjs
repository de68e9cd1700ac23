// Bad inputs to the library, as a caller without types writes them: plain JavaScript, so nothing
// here is checked by the compiler. Each case names its class (docs/reliability.md), calls one
// public entry point and states the typed error it must return. spec/reliability/library.test.ts
// runs them in-process; cases marked `rss` run in a child process (limits-child.mjs) whose peak
// memory is bounded, so a regression cannot take the test runner down with it.
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'

const models = new URL('../fixtures/models/', import.meta.url).pathname

/** A model that returns its input: every view is undone exactly. */
const echo = async (x) => x
/** A classifier: per image, [mean, first pixel]. */
const scores = async (x) => {
  const [n] = x.shape
  const per = x.data.length / n
  const data = new Float32Array(2 * n)
  for (let b = 0; b < n; b++) {
    let sum = 0
    for (let k = 0; k < per; k++) sum += x.data[b * per + k]
    data[2 * b] = sum / per
    data[2 * b + 1] = x.data[b * per]
  }
  return { shape: [n, 2], data }
}
const image = (shape, fill = (k) => k / 10) => {
  const size = shape.reduce((a, d) => a * d, 1)
  return { shape, data: Float32Array.from({ length: size }, (_, k) => fill(k)) }
}
const img22 = () => image([1, 1, 2, 2])
const run = (wrapper) => wrapper.run(img22())()
const right = (either) => {
  if (either._tag !== 'Right') throw new Error(`expected a Right, got ${JSON.stringify(either)}`)
  return either.right
}
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** @type {import('./library-cases.d.mts').LibraryCase[]} */
export const libraryCases = [
  // ── 1. hangs and runaway memory ──────────────────────────────────────────────────────────────
  {
    cls: 1, rss: true, title: 'zeros([1, 3, 2**15, 2**15]) is refused before 12.9 GB are allocated',
    run: (lib) => lib.zeros([1, 3, 2 ** 15, 2 ** 15]),
    expect: { tag: 'LimitError', message: 'a tensor of shape [1,3,32768,32768] holds 3,221,225,472 values; the limit is 268,435,456 (1.0 GiB of float32)', fields: { limit: 'maxElements', max: 2 ** 28 } },
  },
  {
    cls: 1, rss: true, title: 'tensor() checks the shape against the limit before it looks at the data',
    run: (lib) => lib.tensor([1, 3, 2 ** 15, 2 ** 15], []),
    expect: { tag: 'LimitError', message: 'a tensor of shape [1,3,32768,32768] holds 3,221,225,472 values; the limit is 268,435,456 (1.0 GiB of float32)' },
  },
  {
    cls: 1, rss: true, title: 'scale([1e9]) is refused from the plan, not when a typed array cannot be allocated',
    run: (lib) => run(lib.wrap.segmentation(echo, lib.product(right(lib.transforms.scale([1e9]))))),
    expect: { tag: 'LimitError', message: "a buffer of view 'Scale(1000000000)' [1,1,2000000000,2000000000] holds 4,000,000,000,000,000,000 values; the limit is 268,435,456 (1.0 GiB of float32)" },
  },
  {
    cls: 1, rss: true, title: 'resize([[1e5, 1e5]]) is refused from the plan',
    run: (lib) => run(lib.wrap.classification(scores, lib.product(right(lib.transforms.resize([[1e5, 1e5]]))))),
    expect: { tag: 'LimitError', message: "a buffer of view 'Resize([100000,100000])' [1,1,100000,100000] holds 10,000,000,000 values; the limit is 268,435,456 (1.0 GiB of float32)" },
  },
  {
    cls: 1, rss: true, title: 'a plan for a 100000×100000 image is refused by its size',
    run: (lib) => lib.buildPlan('segmentation', lib.views(lib.aliases.hflip()), [1, 3, 100000, 100000], { merge: 'mean' }),
    expect: { tag: 'LimitError', message: 'the image [1,3,100000,100000] holds 30,000,000,000 values; the limit is 268,435,456 (1.0 GiB of float32)' },
  },
  {
    cls: 1, title: 'a plan over the default memory budget says so, and how to allow it',
    run: (lib) => lib.buildPlan('segmentation', lib.views(lib.aliases.hflip()), [1, 3, 8192, 8192], { merge: 'mean' }),
    expect: { tag: 'LimitError', message: 'the default memory budget of 2.0 GiB (pass a larger `budget` to allow it) is too small for one view: the image, the merge and one 8192x8192 view need 3.8 GiB', fields: { limit: 'budget', max: 2 * 2 ** 30 } },
  },
  {
    cls: 1, title: 'a budget too small for one view is a LimitError naming the budget',
    run: (lib) => lib.wrap.segmentation(echo, lib.aliases.d4(), { budget: '1KiB' }).run(image([1, 1, 16, 16]))(),
    expect: { tag: 'LimitError', message: 'a memory budget of 1.0 KiB is too small for one view: the image, the merge and one 16x16 view need 5.0 KiB' },
  },
  {
    cls: 1, title: 'a policy of 262,144 views is refused before a view is enumerated',
    run: (lib) => lib.parsePolicy('d4+d4+d4+d4+d4+d4'),
    expect: { tag: 'LimitError', message: 'the product has 262,144 views; the limit is 4,096', fields: { limit: 'maxViews' } },
  },
  {
    cls: 1, title: 'a config of 13 quarter-turn factors (8,192 views) is refused',
    run: (lib) => lib.productFromConfig({ transforms: Array.from({ length: 13 }, () => ({ name: 'rotate90', angles: [90] })) }),
    expect: { tag: 'LimitError', message: 'the product has 8,192 views; the limit is 4,096' },
  },
  {
    cls: 1, title: 'a wrapper given a product of 262,144 views refuses it without enumerating them',
    run: (lib) => run(lib.wrap.classification(scores, lib.product(...Array.from({ length: 6 }, () => lib.aliases.d4().factors).flat()))),
    expect: { tag: 'LimitError', message: 'the product has 262,144 views; the limit is 4,096' },
  },
  {
    cls: 1, rss: true, title: 'onnx.load({ threads: 100000 }) is refused before a session starts 100,000 threads',
    run: (lib) => lib.onnx.load(`${models}cls_gap_softmax.onnx`, { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { probs: ['N', 5] }, threads: 100000 })(),
    expect: { tag: 'LimitError', message: 'threads must be at most 256, got 100,000', fields: { limit: 'threads', value: 100000, max: 256 } },
  },
  {
    cls: 1, title: 'onnx.open({ threads: 100000 }) is refused too',
    run: (lib) => lib.onnx.open(`${models}cls_gap_softmax.onnx`, { threads: 100000 })(),
    expect: { tag: 'LimitError', message: 'threads must be at most 256, got 100,000' },
  },
  {
    cls: 1, title: 'a model promise that never settles is abandoned after modelTimeout',
    run: (lib) => run(lib.wrap.segmentation(() => new Promise(() => {}), lib.aliases.hflip(), { modelTimeout: 50 })),
    expect: { tag: 'CancelledError', message: 'the model call for chunk 0 did not finish within 50 ms', fields: { reason: 'timeout' } },
  },
  {
    cls: 1, title: 'a whole run past its timeout stops between steps',
    run: (lib) => run(lib.wrap.segmentation(async (x) => { await delay(60); return x }, lib.aliases.d4(), { batch: false, timeout: 100 })),
    expect: { tag: 'CancelledError', message: 'the run did not finish within 100 ms', fields: { reason: 'timeout' } },
  },
  {
    cls: 1, title: 'an AbortSignal that has already aborted stops the run before any work',
    run: (lib) => {
      const calls = []
      const controller = new AbortController()
      controller.abort()
      return lib.wrap.segmentation(async (x) => { calls.push(x); return x }, lib.aliases.hflip(), { signal: controller.signal }).run(img22())()
        .then((r) => (calls.length === 0 ? r : { _tag: 'Right', right: 'the model was called' }))
    },
    expect: { tag: 'CancelledError', message: 'the run was aborted', fields: { reason: 'aborted' } },
  },
  {
    cls: 1, title: 'aborting while the model runs returns at once',
    run: (lib) => {
      const controller = new AbortController()
      setTimeout(() => controller.abort(), 30)
      return run(lib.wrap.segmentation(() => new Promise(() => {}), lib.aliases.hflip(), { signal: controller.signal }))
    },
    expect: { tag: 'CancelledError', message: 'the model call for chunk 0 was aborted', fields: { reason: 'aborted' } },
  },
  {
    cls: 1, title: 'an accumulator of 2**40 values is refused, not allocated',
    run: (lib) => lib.accumulator('mean', 2 ** 40).add(new Float32Array(1)),
    expect: { tag: 'LimitError', message: 'the merge size must be at most 268,435,456, got 1,099,511,627,776' },
  },
  {
    cls: 1, title: 'an allocation the engine refuses (in a backend) is an AllocationError, not a ParamError about a transform',
    run: (lib) => {
      const backend = { name: 'js', detail: 'out of memory', augment: () => { throw new RangeError('Array buffer allocation failed') }, reduce: () => -1 }
      return run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { backend }))
    },
    expect: { tag: 'AllocationError', message: 'cannot allocate a buffer of the run: Array buffer allocation failed' },
  },
  {
    cls: 1, rss: true, title: 'an IDX header claiming 2**62 values is refused before a byte is copied',
    run: (lib) => lib.decodeIdx(Uint8Array.of(0, 0, 8, 2, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 1, 2, 3)),
    expect: { tag: 'LimitError', message: 'the IDX header says [2147483648,2147483648] = 4,611,686,018,427,388,000 values; the limit is 268,435,456' },
  },
  {
    cls: 1, rss: true, title: 'a gzip bomb posing as an IDX file stops at the limit while unpacking',
    run: async (lib, ctx) => lib.decodeIdx(await ctx.gzipBomb()),
    expect: { tag: 'LimitError', message: 'the gzipped IDX data unpacks to more than 268,436,480 bytes; the limit is 268,435,456 values' },
  },
  {
    cls: 1, rss: true, title: "ttach's per-view API refuses a view too large to make, from its chain of sizes",
    run: (lib) => lib.runnableViews(lib.product(right(lib.transforms.scale([1e5]))))[1].augmentImage(img22()),
    expect: { tag: 'LimitError', message: "a buffer of view 'Scale(100000)' [1,200000,200000] holds 40,000,000,000 values; the limit is 268,435,456 (1.0 GiB of float32)" },
  },
  {
    cls: 1, title: 'box fusion of 20,000 boxes is refused before a quadratic soft-NMS starts',
    run: (lib) => {
      const view = { boxes: Array.from({ length: 10000 }, (_, k) => [k / 20000, 0, k / 20000 + 0.1, 0.1]), scores: new Array(10000).fill(0.5), labels: new Array(10000).fill(0) }
      return lib.boxes.fuse([view, view], { method: 'soft-nms' })
    },
    expect: { tag: 'LimitError', message: 'the views hold 20,000 boxes; fusion takes at most 10,000 at once', fields: { limit: 'maxBoxes' } },
  },
  {
    cls: 1, title: 'laws.check with a billion runs per law is refused, not started',
    run: (lib) => lib.laws.check(lib.aliases.hflip(), { numRuns: 1e9 }),
    expect: { tag: 'Left', fields: { law: 'construction', message: 'the transform could not be built: numRuns must be an integer from 1 to 1,000,000, got 1000000000' } },
  },

  // ── 2. non-finite values returned as success ─────────────────────────────────────────────────
  {
    cls: 2, title: 'a model giving +Inf in one view and -Inf in another: NonFiniteError naming the view, not an all-NaN mask',
    run: (lib) => {
      let call = 0
      const model = async (x) => ({ shape: x.shape, data: new Float32Array(x.data.length).fill(call++ === 0 ? Infinity : -Infinity) })
      return run(lib.wrap.segmentation(model, lib.aliases.hflip(), { batch: false }))
    },
    expect: { tag: 'NonFiniteError', message: "view 'identity' has Infinity at index 0 in the model output", fields: { where: "view 'identity'", index: 0, value: Infinity } },
  },
  {
    cls: 2, title: 'merge of [Inf] and [-Inf] refuses the infinite view instead of returning NaN',
    run: (lib) => lib.merge('mean', [{ shape: [1], data: Float32Array.of(Infinity) }, { shape: [1], data: Float32Array.of(-Infinity) }]),
    expect: { tag: 'NonFiniteError', message: 'view 0 has Infinity at index 0' },
  },
  {
    cls: 2, title: 'a sum past the float32 range is refused as a merged result',
    run: (lib) => lib.merge('sum', [right(lib.tensor([2], [1, 3e38])), right(lib.tensor([2], [1, 3e38]))]),
    expect: { tag: 'NonFiniteError', message: 'merged result has Infinity at index 1 (beyond the float32 range)', fields: { where: 'merged result', index: 1 } },
  },
  {
    cls: 2, title: 'multiply([1e38]) is caught before the model is fed Infinity',
    run: (lib) => lib.wrap.segmentation(echo, lib.product(right(lib.transforms.multiply([1e38])))).run(image([1, 1, 2, 2], (k) => k + 1))(),
    expect: { tag: 'NonFiniteError', message: "view 'Multiply(1e+38)' has Infinity at index 3 after augmentation (what the model would be fed)" },
  },
  {
    cls: 2, title: 'a segmentation sum merge that overflows in the run is refused at Finalize',
    run: (lib) => run(lib.wrap.segmentation(async (x) => ({ shape: x.shape, data: new Float32Array(x.data.length).fill(3e38) }), lib.aliases.hflip(), { merge: 'sum' })),
    expect: { tag: 'NonFiniteError', message: 'merged result has Infinity at index 0 (beyond the float32 range)' },
  },
  {
    cls: 2, title: 'tensor() refuses NaN in its data',
    run: (lib) => lib.tensor([2], [Number.NaN, 1]),
    expect: { tag: 'NonFiniteError', message: 'tensor data has NaN at index 0' },
  },
  {
    cls: 2, title: 'tensor() refuses a float64 value that becomes Infinity in float32',
    run: (lib) => lib.tensor([2], Float64Array.of(1, 1e39)),
    expect: { tag: 'NonFiniteError', message: 'tensor data has Infinity at index 1' },
  },
  {
    cls: 2, title: 'decode() refuses -Infinity',
    run: (lib) => lib.decode(['N'], { shape: [2], data: [0, -Infinity] }),
    expect: { tag: 'NonFiniteError', message: 'tensor data has -Infinity at index 1' },
  },
  {
    cls: 2, title: 'a hand-made image with NaN is refused before any view is made',
    run: (lib) => lib.wrap.segmentation(echo, lib.aliases.hflip()).run({ shape: [1, 1, 2, 2], data: Float32Array.of(0, 1, Number.NaN, 3) })(),
    expect: { tag: 'NonFiniteError', message: 'the input image has NaN at index 2' },
  },
  {
    cls: 2, title: 'a classifier returning NaN for the mirrored view: the view and the index are named',
    run: (lib) => run(lib.wrap.classification(async (x) => ({ shape: [x.shape[0], 2], data: Float32Array.of(0.5, 0.5, Number.NaN, 1) }), lib.aliases.hflip())),
    expect: { tag: 'NonFiniteError', message: "view 'HorizontalFlip(true)' has NaN at index 0 in the model output" },
  },
  {
    cls: 2, title: 'a keypoint model returning -Infinity is refused',
    run: (lib) => run(lib.wrap.keypoints(async (x) => ({ shape: [x.shape[0], 2], data: new Float32Array(2 * x.shape[0]).fill(-Infinity) }), lib.aliases.hflip(), { coordinates: 'normalized' })),
    expect: { tag: 'NonFiniteError', message: "view 'identity' has -Infinity at index 0 in the model output" },
  },
  {
    cls: 2, title: 'an accumulator refuses Infinity and keeps its state',
    run: (lib) => {
      const acc = lib.accumulator('mean', 2)
      right(acc.add(Float32Array.of(1, 2)))
      const refused = acc.add(Float32Array.of(1, Infinity))
      return acc.count() === 1 ? refused : { _tag: 'Right', right: 'the bad view was counted' }
    },
    expect: { tag: 'NonFiniteError', message: 'view 1 has Infinity at index 1' },
  },
  {
    cls: 2, title: "ttach's per-view deaugmentMask refuses a mask with NaN",
    run: (lib) => lib.runnableViews(lib.aliases.hflip())[1].deaugmentMask({ shape: [1, 1, 2, 2], data: Float32Array.of(0, Number.NaN, 0, 0) }, img22()),
    expect: { tag: 'NonFiniteError', message: 'the mask has NaN at index 1' },
  },
  {
    cls: 2, title: 'a detector returning a NaN corner: a BoxError naming the view and the box (the boxes rule set)',
    run: (lib) => lib.wrap.detection(async (x) => Array.from({ length: x.shape[0] }, () => ({ boxes: [[0, Number.NaN, 1, 1]], scores: [0.5], labels: [0] })), lib.aliases.hflip()).run(img22())(),
    expect: { tag: 'BoxError', message: "view 'identity': box 0 has y1 = NaN; coordinates must be finite numbers" },
  },
  {
    cls: 2, title: 'an evaluation of an empty set is an error, not accuracy NaN',
    run: (lib) => lib.evaluateClassifier(scores, { shape: [0, 1, 2, 2], images: new Float32Array(0), labels: [] }, [{ name: 'none', product: lib.identity }]),
    expect: { tag: 'ShapeError', message: 'the labelled set is empty: no image to evaluate' },
  },
  {
    cls: 2, title: 'an evaluation set with a NaN pixel is refused',
    run: (lib) => lib.evaluateClassifier(scores, { shape: [1, 1, 1, 2], images: Float32Array.of(0, Number.NaN), labels: [0] }, [{ name: 'none', product: lib.identity }]),
    expect: { tag: 'NonFiniteError', message: 'the labelled images has NaN at index 1' },
  },

  // ── 3. outputs lost or polluted (the file-safety module) ─────────────────────────────────────
  {
    cls: 3, files: true, title: 'two inputs with the same stem are both refused, each naming the other',
    run: (lib, ctx) => {
      const plan = lib.files.planJobs([join(ctx.dir, 'a', 'x.png'), join(ctx.dir, 'b', 'x.png')], join(ctx.dir, 'out'), ['.json'])
      return plan.jobs.length === 0 && plan.refused.length === 2 ? { _tag: 'Left', left: plan.refused[1].error } : { _tag: 'Right', right: plan }
    },
    expect: { tag: 'FileError', message: (ctx) => `${join(ctx.dir, 'b', 'x.png')} and ${join(ctx.dir, 'a', 'x.png')} would both write ${join(ctx.dir, 'out', 'x.json')}; rename one or run them separately`, fields: { reason: 'collision' } },
  },
  {
    cls: 3, files: true, title: 'an output that would overwrite an input is refused',
    run: (lib, ctx) => {
      const plan = lib.files.planJobs([join(ctx.dir, 'a', 'x.png'), join(ctx.dir, 'a', 'x.mask.png')], join(ctx.dir, 'a'), ['.mask.png'])
      return { _tag: 'Left', left: plan.refused[0]?.error }
    },
    expect: { tag: 'FileError', message: (ctx) => `its output ${join(ctx.dir, 'a', 'x.mask.png')} would overwrite an input; choose another output folder` },
  },
  {
    cls: 3, files: true, title: "a folder that is also the output folder: its masks are not taken as inputs",
    run: async (lib, ctx) => {
      await writeFile(join(ctx.dir, 'a', 'x.mask.png'), 'an earlier output')
      await writeFile(join(ctx.dir, 'a', '.x.mask.png.host-1-0123abcd.tta-tmp'), '')
      const found = await lib.files.collectInputs([join(ctx.dir, 'a')], { extensions: ['.png'], outDir: join(ctx.dir, 'a'), outputSuffixes: ['.mask.png', '.mask.npy'] })
      const names = found.files.map((f) => f.slice(join(ctx.dir, 'a').length + 1))
      return names.join() === 'x.png,y.png' ? { _tag: 'Left', left: { _tag: 'FileError', message: 'outputs skipped' } } : { _tag: 'Right', right: names }
    },
    changes: ['a/.x.mask.png.host-1-0123abcd.tta-tmp', 'a/x.mask.png'],
    expect: { tag: 'FileError', message: 'outputs skipped' },
  },
  {
    cls: 3, files: true, title: 'a read-only output is left alone even with force (and even for root)',
    run: async (lib, ctx) => {
      const path = join(ctx.dir, 'out', 'x.json')
      await writeFile(path, '{"kept":true}')
      await chmod(path, 0o444)
      await ctx.rebaseline()
      return lib.files.jobState({ input: join(ctx.dir, 'a', 'x.png'), outputs: [path] }, { force: true })
    },
    expect: { tag: 'FileError', message: (ctx) => `${join(ctx.dir, 'out', 'x.json')} is read-only; left unchanged (make it writable to recompute it)`, fields: { reason: 'read-only' } },
  },
  {
    cls: 3, files: true, title: 'an output folder that is a file is refused, and the file kept',
    run: (lib, ctx) => lib.files.prepareOutputFolder(join(ctx.dir, 'a', 'x.png')),
    expect: { tag: 'FileError', message: (ctx) => `the output folder ${join(ctx.dir, 'a', 'x.png')} is a file`, fields: { reason: 'not-a-folder' } },
  },
  {
    cls: 3, files: true, title: 'a read-only output folder is refused before any work',
    run: async (lib, ctx) => {
      await chmod(join(ctx.dir, 'out'), 0o555)
      await ctx.rebaseline()
      return lib.files.prepareOutputFolder(join(ctx.dir, 'out'))
    },
    expect: { tag: 'FileError', message: (ctx) => `the output folder ${join(ctx.dir, 'out')} is read-only`, fields: { reason: 'read-only' } },
  },
  {
    cls: 3, files: true, title: 'a failed atomic write is a FileError and leaves no temporary file',
    run: (lib, ctx) => lib.files.writeAtomic(join(ctx.dir, 'missing', 'x.json'), '{}'),
    expect: { tag: 'FileError', message: /^cannot write .*missing\/x\.json: ENOENT: no such file or directory, open '.*\.tta-tmp'$/, fields: { reason: 'write-failed' } },
  },
  {
    cls: 3, files: true, title: 'temporary files of a killed process are removed by the next run; a live process keeps its own',
    run: async (lib, ctx) => {
      const host = hostname().replace(/[^A-Za-z0-9-]/g, '_')
      const dead = `.x.json.${host}-999999999-0123abcd.tta-tmp`
      const live = `.y.json.${host}-${process.pid}-0123abcd.tta-tmp`
      await writeFile(join(ctx.dir, 'out', dead), 'half written')
      await writeFile(join(ctx.dir, 'out', live), 'being written')
      await ctx.rebaseline()
      const prepared = await lib.files.prepareOutputFolder(join(ctx.dir, 'out'))
      return prepared._tag === 'Right' ? { _tag: 'Left', left: { _tag: 'FileError', message: 'stale removed' } } : prepared
    },
    changes: [/^out\/\.x\.json\..*\.tta-tmp$/],
    expect: { tag: 'FileError', message: 'stale removed' },
  },

  // ── 4. data that does not match its shape ────────────────────────────────────────────────────
  {
    cls: 4, title: 'an image of [1,1,2,2] with 3 values is refused, not padded with made-up values',
    run: (lib) => lib.wrap.segmentation(echo, lib.aliases.hflip()).run({ shape: [1, 1, 2, 2], data: Float32Array.of(1, 2, 3) })(),
    expect: { tag: 'ShapeError', message: 'an image of shape [1,1,2,2] needs 4 values but data has 3' },
  },
  {
    cls: 4, title: 'shifts:28 on a 28×28 image is refused instead of blanking four of five views',
    run: (lib) => lib.wrap.classification(scores, right(lib.parsePolicy('shifts:28'))).run(image([1, 1, 28, 28]))(),
    expect: { tag: 'ShapeError', message: 'Translate by [0,28] moves a 28x28 image entirely out of the frame: shifts must be smaller than the image (|dy| < 28, |dx| < 28)' },
  },
  {
    cls: 4, title: "an unknown backend ('cuda') is refused, naming the option",
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { backend: 'cuda' })),
    expect: { tag: 'ParamError', message: 'options: backend: expected \'js\', \'reference\', \'gpujs\' or a Backend object, got "cuda"' },
  },
  {
    cls: 4, title: "an unknown keypoint coordinate system ('inches') is refused",
    run: (lib) => run(lib.wrap.keypoints(async (x) => ({ shape: [x.shape[0], 2], data: new Float32Array(2 * x.shape[0]) }), lib.aliases.hflip(), { coordinates: 'inches' })),
    expect: { tag: 'ParamError', message: 'options: coordinates: expected "pixels" | "normalized", got "inches"' },
  },
  {
    cls: 4, title: "a misspelt option ('mege') is refused with the known ones listed",
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { mege: 'max' })),
    expect: { tag: 'ParamError', message: "options: unknown key 'mege' (known: merge, outputKey, onView, backend, budget, maxBatch, batch, timeout, modelTimeout, signal, combine, uncertainty)" },
  },
  {
    cls: 4, title: "the detection wrapper refuses an unknown cutBoxes value through the same option decoder",
    run: (lib) => lib.wrap.detection(async (x) => Array.from({ length: x.shape[0] }, () => ({ boxes: [], scores: [], labels: [] })), lib.aliases.hflip(), { cutBoxes: 'trim' }).run(img22())(),
    expect: { tag: 'ParamError', message: 'options: cutBoxes: expected "keep" | "drop", got "trim"' },
  },
  {
    cls: 4, title: 'maxBatch of 1.5 is refused',
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { maxBatch: 1.5 })),
    expect: { tag: 'ParamError', message: 'options: maxBatch must be a positive integer, got 1.5' },
  },
  {
    cls: 4, title: 'a timeout of -5 ms is refused',
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { timeout: -5 })),
    expect: { tag: 'ParamError', message: 'options: timeout: expected a number of milliseconds from 1 to 2147483647, got -5' },
  },
  {
    cls: 4, title: 'a signal that is not an AbortSignal is refused',
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { signal: { aborted: false } })),
    expect: { tag: 'ParamError', message: 'options: signal: expected an AbortSignal, got an object' },
  },
  {
    cls: 4, title: 'a budget of "lots" is refused, naming the option',
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { budget: 'lots' })),
    expect: { tag: 'ParamError', message: 'options: budget: cannot read the memory budget "lots": use bytes or a size such as \'512MiB\' or \'2GB\'' },
  },
  {
    cls: 4, title: 'a config with an extra key is refused, naming it',
    run: (lib) => lib.productFromConfig({ transforms: [{ name: 'hflip', p: 0.5 }] }),
    expect: { tag: 'ParamError', message: "transform config: transforms[0]: unknown key 'p' (known: name)" },
  },
  {
    cls: 4, title: 'a config with a wrong type names the field',
    run: (lib) => lib.productFromConfig({ transforms: [{ name: 'scale', scales: '0.5' }] }),
    expect: { tag: 'ParamError', message: 'transform config: transforms[0].scales: expected Array<number>, got "0.5"' },
  },
  {
    cls: 4, title: 'a config with an unknown transform lists the known ones',
    run: (lib) => lib.productFromConfig({ transforms: [{ name: 'shear' }] }),
    expect: { tag: 'ParamError', message: 'transform config: transforms[0].name: unknown transform "shear"; use one of hflip, vflip, rotate90, scale, resize, add, multiply, fiveCrops, translate' },
  },
  {
    cls: 4, title: 'tensor() refuses strings and nulls instead of reading them as NaN',
    run: (lib) => lib.tensor([2], ['1', null]),
    expect: { tag: 'ShapeError', message: 'data[0] must be a number, got "1"' },
  },
  {
    cls: 4, title: "'shifts:1,2' is refused instead of silently using the first shift",
    run: (lib) => lib.parsePolicy('shifts:1,2'),
    expect: { tag: 'ParamError', message: "shifts takes one whole number of pixels, got '1,2'" },
  },
  {
    cls: 4, title: 'a plan for an unknown task is refused',
    run: (lib) => lib.buildPlan('detect', lib.views(lib.aliases.hflip()), [1, 1, 2, 2], { merge: 'mean' }),
    expect: { tag: 'ParamError', message: 'task must be one of segmentation, classification, keypoints, detection, got "detect"' },
  },
  {
    cls: 4, title: 'a plan for an image with a fractional side is refused',
    run: (lib) => lib.buildPlan('segmentation', lib.views(lib.aliases.hflip()), [1, 1, 2.5, 2], { merge: 'mean' }),
    expect: { tag: 'ShapeError', message: 'dimension 2 of the image [1,1,2.5,2] must be a positive integer' },
  },
  {
    cls: 4, title: 'Scale(null) is a ParamError',
    run: (lib) => lib.transforms.scale(null),
    expect: { tag: 'ParamError', message: 'Scale takes an array, got null' },
  },
  {
    cls: 4, title: "Rotate90('90') is a ParamError",
    run: (lib) => lib.transforms.rotate90('90'),
    expect: { tag: 'ParamError', message: 'Rotate90 takes an array, got string' },
  },
  {
    cls: 4, title: 'Resize([[4]]) names the bad size',
    run: (lib) => lib.transforms.resize([[4]]),
    expect: { tag: 'ParamError', message: 'Resize sizes must be [height, width] positive integers, got [4]' },
  },
  {
    cls: 4, title: "Scale's alignCorners: 'yes' is refused",
    run: (lib) => lib.transforms.scale([2], { interpolation: 'bilinear', alignCorners: 'yes' }),
    expect: { tag: 'ParamError', message: 'Scale: alignCorners must be true or false, got "yes"' },
  },
  {
    cls: 4, title: 'an onnx signature with an extra key names it',
    run: (lib) => lib.onnx.load(`${models}cls_gap_softmax.onnx`, { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { probs: ['N', 5] }, thread: 2 })(),
    expect: { tag: 'ModelError', message: "the model signature: unknown key 'thread' (known: inputs, outputs, threads) (a signature is { inputs: { name: shape }, outputs: { name: shape }, threads? } with shapes of numbers and names)" },
  },
  {
    cls: 4, title: 'a labelled set with fewer labels than images is refused',
    run: (lib) => lib.evaluateClassifier(scores, { shape: [2, 1, 1, 2], images: new Float32Array(4), labels: [0] }, [{ name: 'none', product: lib.identity }]),
    expect: { tag: 'ShapeError', message: 'a labelled set of 2 images needs 2 labels, got 1' },
  },
  {
    cls: 4, title: 'a label that is not a class index is refused',
    run: (lib) => lib.evaluateClassifier(scores, { shape: [1, 1, 1, 2], images: new Float32Array(2), labels: [0.5] }, [{ name: 'none', product: lib.identity }]),
    expect: { tag: 'ShapeError', message: 'label 0 must be a class index (a non-negative integer)' },
  },
  {
    cls: 4, title: 'a signature whose input is not a list of dims is refused by the dry run',
    run: (lib) => lib.dryRun(right(lib.buildPlan('segmentation', lib.views(lib.aliases.hflip()), [1, 1, 2, 2], { merge: 'mean' })), { input: 'N,3,H,W' }),
    expect: { tag: 'ShapeError', message: 'signature.input must be an array of positive integers and names' },
  },

  // ── 5. crashes with stack traces ─────────────────────────────────────────────────────────────
  {
    cls: 5, title: 'tensor(shape, null) is a Left, not a TypeError',
    run: (lib) => lib.tensor([2], null),
    expect: { tag: 'ShapeError', message: 'data must be an array or a typed array of numbers, got null' },
  },
  {
    cls: 5, title: "ttach's per-view augmentImage(null) is a Left",
    run: (lib) => lib.runnableViews(lib.aliases.d4())[1].augmentImage(null),
    expect: { tag: 'ShapeError', message: 'the image must be a tensor {shape, data: Float32Array}, got null' },
  },
  {
    cls: 5, title: 'textdet.preprocess(null) is a Left',
    run: (lib) => lib.textdet.preprocess(null),
    expect: { tag: 'ShapeError', message: "an image is { data: Uint8Array, width, height, channels } (sharp's raw output)" },
  },
  {
    cls: 5, title: "merge('mean', undefined) is a Left",
    run: (lib) => lib.merge('mean', undefined),
    expect: { tag: 'MergeError', message: 'merge takes an array of tensors, got undefined' },
  },
  {
    cls: 5, title: 'merge of [null] is a Left',
    run: (lib) => lib.merge('max', [null]),
    expect: { tag: 'ShapeError', message: 'tensors[0] is not a tensor {shape, data: Float32Array} whose data fills its shape' },
  },
  {
    cls: 5, title: "zeros('abc') is a Left",
    run: (lib) => lib.zeros('abc'),
    expect: { tag: 'ShapeError', message: 'a shape must be an array of positive integers, got "abc"' },
  },
  {
    cls: 5, title: 'buildPlan with null options is a Left',
    run: (lib) => lib.buildPlan('segmentation', lib.views(lib.aliases.hflip()), [1, 1, 2, 2], null),
    expect: { tag: 'ParamError', message: "plan options must be an object such as { merge: 'mean' }, got null" },
  },
  {
    cls: 5, title: 'dryRun(null) is a Left',
    run: (lib) => lib.dryRun(null, {}),
    expect: { tag: 'ShapeError', message: 'dryRun needs a plan made by `buildPlan`' },
  },
  {
    cls: 5, title: 'runPlan with something that is not a plan is a Left',
    run: (lib) => lib.runPlan({ steps: 'all of them' }, img22(), { backend: lib.referenceBackend(), callModel: echo }),
    expect: { tag: 'ParamError', message: 'not a plan: make one with `buildPlan`' },
  },
  {
    cls: 5, title: 'onnx.open(null) is a Left',
    run: (lib) => lib.onnx.open(null)(),
    expect: { tag: 'ModelError', message: 'a model is a path or a Uint8Array of its bytes, got null' },
  },
  {
    cls: 5, title: 'onnx.open of a folder is a Left',
    run: (lib) => lib.onnx.open(models)(),
    expect: { tag: 'ModelError', message: `cannot open ${JSON.stringify(models)}: it is not a file` },
  },
  {
    cls: 5, title: 'laws.check(null) is a Left',
    run: (lib) => lib.laws.check(null),
    expect: { tag: 'Left', fields: { law: 'construction', message: 'the transform could not be built: laws.check takes a factor, a product, or the Either a constructor returned' } },
  },
  {
    cls: 5, title: 'evaluateClassifier(model, null) is a Left',
    run: (lib) => lib.evaluateClassifier(scores, null, []),
    expect: { tag: 'ShapeError', message: 'a labelled set is { shape: [N, C, H, W], images: Float32Array, labels }' },
  },
  {
    cls: 5, title: 'an onView callback that throws is a Left naming the callback',
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), { onView: () => { throw new Error('progress bar gone') } })),
    expect: { tag: 'ParamError', message: 'the onView callback threw: progress bar gone' },
  },
  {
    cls: 5, title: 'null options are a Left from run, not a TypeError from wrap',
    run: (lib) => run(lib.wrap.segmentation(echo, lib.aliases.hflip(), null)),
    expect: { tag: 'ParamError', message: 'options: expected an object, got null' },
  },
  {
    cls: 5, title: 'a model that is not a function is a Left',
    run: (lib) => run(lib.wrap.classification(42, lib.aliases.hflip())),
    expect: { tag: 'ParamError', message: 'the model must be a function from a batch tensor to a promise of a tensor, got 42' },
  },
  {
    cls: 5, title: 'a model that throws synchronously is a ModelError',
    run: (lib) => run(lib.wrap.classification(() => { throw new Error('CUDA out of memory') }, lib.aliases.hflip())),
    expect: { tag: 'ModelError', message: "the model failed on view 'chunk [2,1,2,2]': CUDA out of memory" },
  },
  {
    cls: 5, title: 'an accumulator for an unknown mode answers Left on every call',
    run: (lib) => lib.accumulator('median', 2).result(),
    expect: { tag: 'MergeError', message: "unknown merge mode 'median'; use one of mean, gmean, sum, max, min, tsharpen, vote" },
  },
  {
    cls: 5, title: 'a classifier used as a segmentation model is caught by the dry run, before any call',
    run: async (lib) => {
      const model = right(await lib.onnx.open(`${models}cls_gap_softmax.onnx`)())
      let calls = 0
      const counted = Object.assign(async (x) => { calls++; return model(x) }, { signature: model.signature })
      const result = await lib.wrap.segmentation(counted, lib.aliases.hflip()).run(image([1, 3, 4, 4]))()
      await model.release()
      return calls === 0 ? result : { _tag: 'Right', right: `the model was called ${calls} times` }
    },
    expect: { tag: 'ShapeError', message: "a segmentation model must return [N,K,H,W] masks, but this model's output is [N,5] (a classifier?)" },
  },
]

/** Files every case with `files: true` starts from, under its own temporary folder. */
export const caseFiles = async (dir) => {
  await mkdir(join(dir, 'a'), { recursive: true })
  await mkdir(join(dir, 'b'), { recursive: true })
  await mkdir(join(dir, 'out'), { recursive: true })
  await writeFile(join(dir, 'a', 'x.png'), 'input a/x')
  await writeFile(join(dir, 'a', 'y.png'), 'input a/y')
  await writeFile(join(dir, 'b', 'x.png'), 'input b/x')
}
