// The public entry points as a caller without types reaches them, each with a fast-check
// arbitrary for its arguments: shapes, data, option objects, policy strings and config JSON that
// are sometimes right, often nearly right, and sometimes nonsense. spec/reliability/fuzz.test.ts
// feeds them and asserts "a Right with finite values, or a typed Left — never a throw, a hang or a
// non-finite success". Plain JavaScript, like the callers it stands for.
import fc from 'fast-check'

const models = new URL('../fixtures/models/', import.meta.url).pathname

// ── values an untyped caller passes ────────────────────────────────────────────────────────────
const odd = fc.constantFrom(null, undefined, Number.NaN, Infinity, -Infinity, -1, 0, 0.5, 1.5, 2 ** 31, 1e300, -0, '', '2', 'x', true, false, [], {})
const junk = fc.oneof(odd, fc.integer(), fc.double(), fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 2, maxKeys: 3 }))
/** Mostly `valid` (so that the success path is exercised), sometimes `invalid`. */
const mostly = (valid, invalid) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: invalid })
const dim = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 5 }) }, { weight: 1, arbitrary: odd }, { weight: 1, arbitrary: fc.constantFrom(2 ** 15, 2 ** 40) })
const shape = mostly(fc.array(dim, { minLength: 0, maxLength: 4 }), junk)
const finite = fc.double({ min: -10, max: 10, noNaN: true })
const value = fc.oneof({ weight: 12, arbitrary: finite }, { weight: 1, arbitrary: odd }, { weight: 1, arbitrary: fc.constantFrom(3e38, -3e38, 1e39) })
const sizeOf = (dims) => dims.reduce((a, d) => a * d, 1)
const isDims = (s) => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d > 0) && sizeOf(s) <= 4096
/** Data for a shape: mostly the right length of finite numbers, else a wrong length, a bad value, or junk. */
const dataFor = (s) => {
  const n = isDims(s) ? sizeOf(s) : 4
  return fc.oneof(
    { weight: 8, arbitrary: fc.array(finite, { minLength: n, maxLength: n }).map((v) => Float32Array.from(v)) },
    { weight: 2, arbitrary: fc.array(finite, { minLength: n, maxLength: n }) },
    { weight: 1, arbitrary: fc.array(value, { minLength: n, maxLength: n }) },
    { weight: 1, arbitrary: fc.array(value, { minLength: Math.max(0, n - 1), maxLength: n + 1 }).map((v) => Float32Array.from(v.map((x) => (typeof x === 'number' ? x : Number.NaN)))) },
    { weight: 1, arbitrary: junk },
  )
}
const shapeAndData = shape.chain((s) => fc.tuple(fc.constant(s), dataFor(s)))
/** A tensor-like value: mostly a right one, sometimes with a wrong length, NaN, or not a tensor at all. */
const tensorLike = (dims) => fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: sizeOf(dims), maxLength: sizeOf(dims) }).map((v) => ({ shape: dims, data: Float32Array.from(v) })) },
  { weight: 1, arbitrary: fc.constant({ shape: dims, data: new Float32Array(Math.max(0, sizeOf(dims) - 1)) }) },
  { weight: 1, arbitrary: fc.constant({ shape: dims, data: Float32Array.from({ length: sizeOf(dims) }, (_, k) => (k === 0 ? Number.NaN : 1)) }) },
  { weight: 1, arbitrary: junk },
)
const imageDims = fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }))
const image = fc.oneof({ weight: 8, arbitrary: imageDims.chain(tensorLike) }, { weight: 1, arbitrary: shapeAndData.map(([s, d]) => ({ shape: s, data: d })) })

// ── policies and configs ───────────────────────────────────────────────────────────────────────
const goodToken = fc.constantFrom('none', 'hflip', 'vflip', 'flip', 'd4', 'rotate90:90', 'rotate90:90,180', 'multiscale:0.5,2', 'multiscale:2/bilinear', 'fivecrop:2x2', 'tencrop:1x1', 'shifts:1', 'shifts:2', ' hflip ')
const badToken = fc.constantFrom('rotate90:45', 'rotate90:', 'multiscale:1e9', 'multiscale:0', 'multiscale:1/linear', 'fivecrop:0x0', 'fivecrop:9x9', 'shifts:28', 'shifts:-1', 'shifts:1.5', 'shifts:1e300', 'shifts:1,2', 'D4', 'junk', '')
export const policyString = fc.oneof(
  { weight: 6, arbitrary: fc.array(mostly(goodToken, badToken), { minLength: 1, maxLength: 3 }).map((t) => t.join('+')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: junk },
)
const small = fc.integer({ min: 1, max: 3 })
/** A right config for each transform, by name. */
const goodFactor = fc.oneof(
  fc.constantFrom({ name: 'hflip' }, { name: 'vflip' }),
  fc.array(fc.constantFrom(90, 180, 270, -90), { minLength: 1, maxLength: 2 }).map((angles) => ({ name: 'rotate90', angles })),
  fc.record({ name: fc.constant('scale'), scales: fc.array(fc.constantFrom(0.5, 2, 1.5), { minLength: 1, maxLength: 2 }), interpolation: fc.constantFrom('nearest', 'bilinear', 'area') }, { requiredKeys: ['name', 'scales'] }),
  fc.record({ name: fc.constant('resize'), sizes: fc.array(fc.tuple(small, small), { minLength: 1, maxLength: 2 }) }),
  fc.record({ name: fc.constantFrom('add', 'multiply'), values: fc.array(fc.constantFrom(0.5, 2, -1), { minLength: 1, maxLength: 2 }) }).map(({ name, values }) => (name === 'add' ? { name, values } : { name, factors: values })),
  fc.record({ name: fc.constant('fiveCrops'), height: small, width: small }),
  fc.record({ name: fc.constant('translate'), shifts: fc.array(fc.tuple(fc.integer({ min: -1, max: 1 }), fc.integer({ min: -1, max: 1 })), { minLength: 1, maxLength: 2 }), fill: fc.constantFrom('zeros', 'edge') }, { requiredKeys: ['name', 'shifts'] }),
)
/** A config made wrong in one place: an extra key, a wrong type, a bad number, an unknown name. */
const badFactor = fc.tuple(goodFactor, fc.constantFrom('extra', 'type', 'name', 'number'), junk).map(([f, how, j]) =>
  how === 'extra' ? { ...f, p: j }
    : how === 'name' ? { ...f, name: typeof j === 'string' ? `${j}x` : j }
      : how === 'number' ? Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Array.isArray(v) ? [...v, 1e300 * (Array.isArray(v[0]) ? 1 : -1)] : v]))
        : Object.fromEntries(Object.entries(f).map(([k, v]) => [k, k === 'name' ? v : String(v)])))
export const configJson = fc.oneof(
  { weight: 6, arbitrary: fc.array(mostly(goodFactor, badFactor), { maxLength: 3 }).map((transforms) => ({ transforms })) },
  { weight: 1, arbitrary: fc.record({ transforms: fc.array(goodFactor, { maxLength: 2 }), extra: junk }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((text) => JSON.parse(text)) },
  { weight: 1, arbitrary: junk },
)

// ── option objects ─────────────────────────────────────────────────────────────────────────────
const abortedSignal = () => { const c = new AbortController(); c.abort(); return c.signal }
/** Values each option may rightly take (for keypoints: no 'vote'; coordinates only there). */
const validOption = (task) => ({
  merge: task === 'keypoints' ? fc.constantFrom('mean', 'sum', 'max', 'min') : fc.constantFrom('mean', 'gmean', 'sum', 'max', 'min', 'tsharpen', 'vote'),
  backend: fc.constantFrom('js', 'reference'),
  budget: fc.constantFrom('1KiB', '64MiB', 2048, 1e6),
  maxBatch: fc.integer({ min: 1, max: 9 }),
  batch: fc.boolean(),
  timeout: fc.oneof({ weight: 4, arbitrary: fc.constant(1000) }, { weight: 1, arbitrary: fc.constant(1) }),
  modelTimeout: fc.constantFrom(5, 1000),
  signal: fc.constant(undefined).map(() => abortedSignal()),
  onView: fc.constantFrom(() => undefined, () => { throw new Error('progress failed') }),
  ...(task === 'keypoints' ? { coordinates: fc.constantFrom('pixels', 'normalized') } : {}),
  ...(task === 'keypoints' ? {} : { uncertainty: fc.constantFrom('logits', 'probabilities'), combine: fc.record({ probabilities: fc.boolean() }) }),
  ...(task === 'classification' ? { earlyExit: fc.record({ margin: fc.constantFrom(0.1, 0.5, 1), minViews: fc.integer({ min: 1, max: 3 }) }, { requiredKeys: ['margin'] }) } : {}),
})
/** A few options, rightly set. */
const validOptions = (task) => fc.subarray(Object.keys(validOption(task)), { maxLength: 3 })
  .chain((keys) => fc.record(Object.fromEntries(keys.map((k) => [k, validOption(task)[k]]))))
/** Values an untyped caller gets wrong. */
const invalidOption = fc.oneof(
  fc.record({ key: fc.constantFrom('merge', 'backend', 'budget', 'maxBatch', 'batch', 'timeout', 'modelTimeout', 'signal', 'onView', 'outputKey', 'coordinates', 'uncertainty', 'combine', 'earlyExit'), value: fc.oneof(fc.constantFrom('cuda', 'median', 'lots', 0, -5, 1.5, 2 ** 40, Infinity, 'inches', { margin: 2 }, { weights: [[Infinity]] }), junk) }),
  fc.record({ key: fc.constantFrom('mege', 'backends', 'timeOut'), value: junk }),
)
/** Option objects for a wrapper of `task`: mostly right, some with one wrong option, some junk. */
export const optionsFor = (task) => fc.oneof(
  { weight: 7, arbitrary: validOptions(task) },
  { weight: 2, arbitrary: fc.tuple(validOptions(task), invalidOption).map(([o, bad]) => ({ ...o, [bad.key]: bad.value })) },
  { weight: 1, arbitrary: junk },
)
export const options = optionsFor('segmentation')

// ── policy files ───────────────────────────────────────────────────────────────────────────────
const policyFile = (classes, side) => ({
  format: 'tta-lens-policy', version: 1, task: 'classification',
  model: { input: [1, side, side], classes, scores: 'logits' },
  views: [{ name: 'identity', ops: [] }, { name: 'hflip', ops: [{ op: 'hflip' }] }],
  merge: { mode: 'mean', over: 'logits', temperature: 1.2 },
})
/** A policy file: mostly a right one, sometimes with one field replaced by junk, or junk. */
export const policyJson = mostly(
  fc.tuple(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 2, max: 6 }), fc.option(fc.tuple(fc.constantFrom('format', 'version', 'task', 'model', 'views', 'merge', 'extra'), junk), { nil: undefined }))
    .map(([classes, side, bad]) => (bad === undefined ? policyFile(classes, side) : { ...policyFile(classes, side), [bad[0]]: bad[1] })),
  junk,
)

// ── models ─────────────────────────────────────────────────────────────────────────────────────
const echo = async (x) => x
const scores = async (x) => ({ shape: [x.shape[0], 3], data: Float32Array.from({ length: 3 * x.shape[0] }, (_, k) => (x.data[k % x.data.length] ?? 0) + k) })
const points = async (x) => ({ shape: [x.shape[0], 4], data: Float32Array.from({ length: 4 * x.shape[0] }, (_, k) => ((x.data[k % x.data.length] ?? 0) % 1 + 1) / 2) })
/** Models a user may pass: right ones, and ones that return NaN, Infinity, the wrong shape, garbage, throw, or never answer. */
const model = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(['echo', echo], ['scores', scores], ['points', points]) }, { weight: 2, arbitrary: fc.constantFrom(
  ['echo', echo], ['scores', scores], ['points', points],
  ['nan', async (x) => ({ shape: x.shape, data: new Float32Array(x.data.length).fill(Number.NaN) })],
  ['inf', async (x) => ({ shape: x.shape, data: Float32Array.from(x.data, (v, k) => (k % 2 === 0 ? Infinity : -Infinity)) })],
  ['huge', async (x) => ({ shape: x.shape, data: new Float32Array(x.data.length).fill(3e38) })],
  ['negative', async (x) => ({ shape: x.shape, data: new Float32Array(x.data.length).fill(-1) })],
  ['short', async (x) => ({ shape: x.shape, data: new Float32Array(1) })],
  ['batch', async (x) => ({ shape: [1, ...x.shape.slice(1)], data: x.data.slice(0, x.data.length / x.shape[0]) })],
  ['record', async (x) => ({ mask: x, probs: await scores(x) })],
  ['garbage', async () => 'a string'],
  ['throws', () => { throw new Error('model failed') }],
  ['rejects', async () => { throw new Error('model failed later') }],
  ['never', () => new Promise(() => {})],
  ['not a function', 42],
) })

// ── products from constructors (and not) ───────────────────────────────────────────────────────
const product = (lib) => fc.oneof(
  { weight: 6, arbitrary: policyString.map((p) => lib.parsePolicy(p)).filter((e) => e._tag === 'Right').map((e) => e.right) },
  { weight: 1, arbitrary: configJson.map((c) => lib.productFromConfig(c)).filter((e) => e._tag === 'Right').map((e) => e.right) },
  { weight: 1, arbitrary: fc.oneof(junk, fc.constant({ _tag: 'Product', factors: [null] })) },
)

/** Every entry point, with the arbitrary for its arguments. `call` returns what the entry point returned. */
export const entryPoints = (lib) => [
  { name: 'tensor', args: shapeAndData, call: ([s, d]) => lib.tensor(s, d) },
  { name: 'zeros', args: shape, call: (s) => lib.zeros(s) },
  { name: 'decode', args: fc.tuple(mostly(fc.constantFrom(['N', 'C'], ['N', 2], ['A', 'A']), shape), mostly(fc.tuple(fc.array(small, { minLength: 2, maxLength: 2 }), fc.boolean()).chain(([s, typed]) => dataFor(s).map((d) => ({ shape: s, data: typed && Array.isArray(d) ? Float32Array.from(d.map(Number)) : d }))), junk)), call: ([spec, v]) => lib.decode(spec, v) },
  {
    name: 'merge',
    args: fc.tuple(fc.oneof(fc.constantFrom('mean', 'gmean', 'sum', 'max', 'min', 'tsharpen', 'vote'), junk), fc.oneof({ weight: 5, arbitrary: fc.tuple(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 4 })).chain(([dims, n]) => fc.array(tensorLike(dims), { minLength: n, maxLength: n })) }, { weight: 1, arbitrary: junk })),
    call: ([mode, tensors]) => lib.merge(mode, tensors),
  },
  {
    name: 'accumulator',
    args: fc.tuple(mostly(fc.constantFrom('mean', 'gmean', 'sum', 'max', 'min', 'tsharpen', 'vote'), junk), mostly(fc.integer({ min: 1, max: 6 }), odd), fc.oneof(fc.constant(undefined), fc.record({ outer: fc.integer({ min: 1, max: 3 }), classes: fc.integer({ min: 1, max: 3 }), inner: fc.integer({ min: 1, max: 2 }) }), junk), fc.array(fc.tuple(fc.boolean(), dataFor([6])), { maxLength: 4 })),
    call: ([mode, size, layout, views]) => {
      const acc = lib.accumulator(mode, size, layout)
      for (const [fit, v] of views) {
        // Mostly a view of the merge's size (the first `size` values), sometimes all six.
        const added = acc.add(fit && v instanceof Float32Array && typeof size === 'number' && size >= 1 && size <= 6 ? v.subarray(0, size) : v)
        if (added._tag === 'Left') return added
      }
      return acc.result()
    },
  },
  { name: 'parsePolicy', args: policyString, call: (p) => lib.parsePolicy(p) },
  { name: 'productFromConfig', args: configJson, call: (c) => lib.productFromConfig(c) },
  {
    name: 'transforms (every constructor)',
    args: fc.tuple(mostly(goodFactor, badFactor), fc.oneof(fc.constant(undefined), fc.record({ interpolation: mostly(fc.constantFrom('nearest', 'bilinear'), junk), alignCorners: mostly(fc.boolean(), junk), originalSize: mostly(fc.tuple(small, small), junk), fill: mostly(fc.constantFrom('zeros', 'edge'), junk) }, { requiredKeys: [] }), junk)),
    call: ([config, extra]) => {
      // The constructors themselves, with the config's parameters (and an options object to fuzz).
      const T = lib.transforms
      const name = typeof config === 'object' && config !== null ? config.name : undefined
      const params = typeof config === 'object' && config !== null ? config.angles ?? config.scales ?? config.sizes ?? config.values ?? config.factors ?? config.shifts : undefined
      const made = name === 'fiveCrops' ? T.fiveCrops(config.height, config.width)
        : typeof name === 'string' && typeof T[name] === 'function' ? T[name](params, extra)
          : { _tag: 'Left', left: { _tag: 'ParamError', message: 'no such constructor' } }
      return made._tag === 'Left' || made._tag === 'Right' ? made : { _tag: 'Right', right: made }
    },
  },
  { name: 'parseBudget', args: mostly(fc.oneof(fc.integer({ min: 1, max: 2 ** 40 }), fc.tuple(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constantFrom('', 'B', 'KiB', 'MiB', 'GB', 'gib', ' MiB', 'TB', 'x')).map(([n, u]) => `${n}${u}`)), junk), call: (b) => lib.parseBudget(b) },
  {
    name: 'buildPlan',
    args: fc.tuple(mostly(fc.constantFrom('segmentation', 'classification', 'keypoints'), junk), fc.oneof({ weight: 5, arbitrary: product(lib).map((p) => (p?._tag === 'Product' && lib.checkProduct(p)._tag === 'Right' ? lib.views(p) : p)) }, { weight: 1, arbitrary: junk }), mostly(imageDims, shape), mostly(fc.record({ merge: fc.constantFrom('mean', 'max', 'vote'), budget: fc.constantFrom('1KiB', '64MiB'), maxBatch: fc.integer({ min: 1, max: 4 }), batch: fc.boolean() }, { requiredKeys: ['merge'] }), options)),
    call: ([task, views, dims, opts]) => lib.buildPlan(task, views, dims, opts),
  },
  {
    name: 'dryRun',
    args: fc.tuple(fc.constantFrom('segmentation', 'classification', 'keypoints'), product(lib), imageDims, fc.oneof(fc.record({ input: fc.oneof(fc.constant(['N', 3, 'H', 'W']), shape), output: fc.oneof(fc.constant(['N', 2, 'H', 'W']), fc.constant(['N', 5]), shape), maxBatch: fc.oneof(fc.integer({ min: 1, max: 9 }), junk) }, { requiredKeys: [] }), junk)),
    call: ([task, p, dims, signature]) => {
      const checked = lib.checkProduct(p)
      if (checked._tag === 'Left') return checked
      const plan = lib.buildPlan(task, lib.views(p), dims, { merge: 'mean' })
      return plan._tag === 'Left' ? plan : lib.dryRun(plan.right, signature)
    },
  },
  ...['segmentation', 'classification', 'keypoints'].map((task) => ({
    name: `wrap.${task}(…).run`,
    args: fc.tuple(model, product(lib), optionsFor(task), image),
    call: ([[kind, m], p, opts, im]) => {
      // A model that never answers is only bounded when the caller asks for a bound: give it one.
      const bounded = kind === 'never' ? { ...(typeof opts === 'object' && opts !== null ? opts : {}), modelTimeout: 20 } : opts
      return lib.wrap[task](m, p, bounded).run(im)()
    },
  })),
  {
    name: 'evaluateClassifier',
    args: fc.tuple(model, fc.oneof({ weight: 5, arbitrary: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).chain(([n, c, h, w]) => fc.record({ shape: fc.constant([n, c, h, w]), images: fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: n * c * h * w, maxLength: n * c * h * w }).map((v) => Float32Array.from(v)), labels: fc.array(fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: odd }), { minLength: n, maxLength: n }) })) }, { weight: 1, arbitrary: junk }), mostly(fc.array(fc.record({ name: fc.string({ maxLength: 4 }), product: product(lib) }), { minLength: 1, maxLength: 3 }), junk), fc.oneof(optionsFor('classification'), fc.record({ imagesPerRun: mostly(fc.integer({ min: 1, max: 3 }), junk) }))),
    call: ([[kind, m], set, policies, opts]) => lib.evaluateClassifier(m, set, policies, kind === 'never' ? { modelTimeout: 20 } : opts),
  },
  {
    name: 'decodeIdx',
    args: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.tuple(fc.integer({ min: 0, max: 3 }), fc.array(mostly(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { minLength: 3, maxLength: 3 }), fc.boolean(), fc.uint8Array({ maxLength: 30 })).map(([rank, dims, exact, extra]) => {
      const body = exact ? new Uint8Array(dims.slice(0, rank).reduce((a, d) => a * d, 1) % 1000) : extra
      const out = new Uint8Array(4 + 4 * rank + body.length)
      out[2] = 8
      out[3] = rank
      const view = new DataView(out.buffer)
      for (let i = 0; i < rank; i++) view.setUint32(4 + 4 * i, dims[i] ?? 1)
      out.set(body, 4 + 4 * rank)
      return out
    }), junk),
    call: (bytes) => lib.decodeIdx(bytes),
  },
  {
    name: 'onnx.load',
    args: fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(`${models}cls_gap_softmax.onnx`, `${models}seg_conv1x1_sigmoid.onnx`) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom(models, `${models}none.onnx`, new Uint8Array(3)), junk) }), fc.oneof({ weight: 5, arbitrary: fc.record({ inputs: mostly(fc.constant({ image: ['N', 3, 'H', 'W'] }), fc.oneof(fc.dictionary(fc.constantFrom('image', 'x'), fc.oneof(shape, junk), { maxKeys: 2 }), junk)), outputs: mostly(fc.constantFrom({ probs: ['N', 5] }, { mask: ['N', 2, 'H', 'W'] }), fc.oneof(fc.dictionary(fc.constantFrom('probs', 'mask'), fc.oneof(shape, junk), { maxKeys: 2 }), junk)), threads: mostly(fc.integer({ min: 1, max: 2 }), fc.oneof(fc.constantFrom(100000, 1.5, 0), junk)), extra: junk }, { requiredKeys: ['inputs', 'outputs'] }) }, { weight: 1, arbitrary: junk })),
    call: async ([source, spec]) => {
      const loaded = await lib.onnx.load(source, spec)()
      if (loaded._tag === 'Right') await loaded.right.release()
      return loaded._tag === 'Right' ? { _tag: 'Right', right: loaded.right.signature } : loaded
    },
  },
  { name: 'wrap.decodeOptions', args: options, call: (o) => lib.wrap.decodeOptions(o) },
  {
    name: 'boxes.checkDetections',
    args: mostly(fc.nat({ max: 3 }).chain((n) => fc.record({
      boxes: mostly(fc.array(fc.tuple(finite, finite, fc.double({ min: 0, max: 5, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true })).map(([x, y, w, h]) => [x, y, x + w, y + h]), { minLength: n, maxLength: n }), fc.array(fc.array(value, { maxLength: 5 }), { maxLength: 3 })),
      scores: mostly(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }), fc.array(value, { maxLength: 3 })),
      labels: mostly(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }), fc.array(fc.oneof(fc.integer({ min: -1, max: 3 }), odd), { maxLength: 3 })),
    }, { requiredKeys: [] })), junk),
    call: (d) => lib.boxes.checkDetections(d, 'fuzz'),
  },
  {
    name: 'boxes.fuse',
    args: fc.tuple(
      mostly(fc.array(fc.nat({ max: 4 }).chain((n) => fc.record({
        boxes: fc.array(fc.tuple(fc.double({ min: 0, max: 0.6, noNaN: true }), fc.double({ min: 0, max: 0.6, noNaN: true }), fc.double({ min: 0, max: 0.4, noNaN: true }), fc.double({ min: 0, max: 0.4, noNaN: true })).map(([x, y, w, h]) => [x, y, x + w, y + h]), { minLength: n, maxLength: n }),
        scores: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }),
        labels: fc.array(fc.integer({ min: 0, max: 2 }), { minLength: n, maxLength: n }),
      })), { maxLength: 4 }), junk),
      mostly(fc.record({
        method: mostly(fc.constantFrom('nms', 'soft-nms', 'nmw', 'wbf'), junk),
        iouThreshold: mostly(fc.double({ min: 0, max: 1, noNaN: true }), junk),
        skipThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
        confidence: fc.constantFrom('avg', 'max', 'box_and_model_avg', 'absent_model_aware_avg'),
        allowsOverflow: fc.boolean(),
      }, { requiredKeys: ['method'] }).map((o) => (o.method === 'wbf' ? o : { method: o.method, ...(o.iouThreshold === undefined ? {} : { iouThreshold: o.iouThreshold }) })), junk),
    ),
    call: ([views, opts]) => lib.boxes.fuse(views, opts),
  },
  {
    name: 'runnableViews(…) augmentImage / deaugmentMask / deaugmentKeypoints',
    args: fc.tuple(product(lib), fc.nat({ max: 100 }), image, image, mostly(fc.integer({ min: 1, max: 3 }).chain((k) => tensorLike([1, k, 2])), junk)),
    call: ([p, pick, im, mask, points]) => {
      const checked = lib.checkProduct(p)
      if (checked._tag === 'Left') return checked
      const all = lib.runnableViews(p)
      const view = all[pick % all.length]
      const augmented = view.augmentImage(im)
      if (augmented._tag === 'Left') return augmented
      const back = view.deaugmentMask === undefined || pick % 3 === 0 ? augmented : view.deaugmentMask(pick % 2 === 0 ? augmented.right : mask, im)
      if (back._tag === 'Left' || view.deaugmentKeypoints === undefined) return back
      return view.deaugmentKeypoints(points, im)
    },
  },
  {
    name: 'textdet.preprocess',
    args: mostly(fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 3, 4, 2)).chain(([w, h, c]) => fc.record({
      data: mostly(fc.uint8Array({ minLength: w * h * c, maxLength: w * h * c }), fc.oneof(fc.uint8Array({ maxLength: 10 }), junk)),
      width: mostly(fc.constant(w), junk), height: mostly(fc.constant(h), fc.constantFrom(2 ** 20, 0)), channels: fc.constant(c),
    })), junk),
    call: (image) => lib.textdet.preprocess(image),
  },
  {
    name: 'wrap.detection(…).run',
    args: fc.tuple(
      fc.constantFrom(
        ['boxes', async (x) => Array.from({ length: x.shape[0] }, (_, b) => ({ boxes: [[0, 0, 1 + (b % 2), 1], [0.5, 0.5, 2, 2]], scores: [0.9, 0.4], labels: [0, 1] }))],
        ['none', async (x) => Array.from({ length: x.shape[0] }, () => ({ boxes: [], scores: [], labels: [] }))],
        ['nan', async (x) => Array.from({ length: x.shape[0] }, () => ({ boxes: [[0, Number.NaN, 1, 1]], scores: [0.5], labels: [0] }))],
        ['reversed', async (x) => Array.from({ length: x.shape[0] }, () => ({ boxes: [[2, 0, 1, 1]], scores: [0.5], labels: [0] }))],
        ['count', async () => [{ boxes: [], scores: [], labels: [] }]],
        ['garbage', async () => 'boxes'],
        ['throws', () => { throw new Error('detector failed') }],
      ),
      product(lib),
      mostly(fc.record({
        coordinates: fc.constantFrom('pixels', 'normalized'),
        fusion: mostly(fc.constantFrom({ method: 'wbf' }, { method: 'nms', iouThreshold: 0.5 }, { method: 'soft-nms' }), junk),
        cutBoxes: mostly(fc.constantFrom('keep', 'drop'), junk),
        keepViews: fc.boolean(),
        merge: fc.constantFrom('mean', 'max'),
      }, { requiredKeys: [] }), junk),
      image,
    ),
    call: ([[, m], p, opts, im]) => lib.wrap.detection(m, p, opts).run(im)(),
  },
  { name: 'decodePolicy', args: policyJson, call: (json) => lib.decodePolicy(json) },
  {
    name: 'parsePolicyText',
    args: fc.oneof(policyJson.map((j) => JSON.stringify(j) ?? 'undefined'), policyJson.chain((j) => fc.nat({ max: 200 }).map((k) => (JSON.stringify(j) ?? '').slice(0, k))), fc.string({ maxLength: 30 }), junk),
    call: (text) => lib.parsePolicyText(text),
  },
  {
    name: 'parsePool + productOfViews',
    args: fc.tuple(mostly(fc.array(fc.constantFrom('hflip', 'shift:1', 'shift:2', 'zoom:0.9,1.1', 'brightness:-0.05,0.05', 'contrast:0.9,1.1', 'hflip*hshift:1', 'zoom:0', 'shift:-1', 'spin:3', ''), { maxLength: 4 }).map((items) => items.join('; ')), junk), mostly(fc.integer({ min: 1, max: 32 }), junk), mostly(fc.integer({ min: 1, max: 32 }), junk)),
    call: ([text, h, w]) => {
      const pool = lib.parsePool(text, h, w)
      return pool._tag === 'Left' ? pool : lib.productOfViews(pool.right, h, w)
    },
  },
  {
    name: 'wrap.classification(model, policy).run',
    // The image is made for the policy's model (one channel, its side), mostly; the model answers its classes.
    args: fc.tuple(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 2 })).chain(([classes, side, n]) => fc.tuple(
      mostly(fc.constant(['classes', async (x) => ({ shape: [x.shape[0], classes], data: Float32Array.from({ length: classes * x.shape[0] }, (_, k) => (x.data[k % x.data.length] ?? 0) - k / 10) })]), model),
      mostly(fc.constant(policyFile(classes, side)), policyJson),
      optionsFor('classification'),
      mostly(tensorLike([n, 1, side, side]), image),
    )),
    call: ([[kind, m], json, opts, im]) => {
      const policy = lib.decodePolicy(json)
      if (policy._tag === 'Left') return policy
      const bounded = kind === 'never' ? { ...(typeof opts === 'object' && opts !== null ? opts : {}), modelTimeout: 20 } : opts
      return lib.wrap.classification(m, policy.right, bounded).run(im)()
    },
  },
  {
    name: 'files.planJobs',
    args: fc.tuple(fc.array(fc.oneof(fc.constantFrom('a/x.png', 'b/x.png', 'a/x.jpg', 'out/x.json', 'out/x.mask.png', 'y.png'), fc.string({ maxLength: 6 })), { maxLength: 6 }), fc.constantFrom('out', 'a', '.'), fc.constantFrom(['.json'], ['.mask.png', '.mask.npy'])),
    call: ([inputs, out, suffixes]) => {
      const plan = lib.files.planJobs(inputs, out, suffixes)
      // Not an Either: every input is either a job or refused with a FileError, never both, never lost.
      if (plan.jobs.length + plan.refused.length !== inputs.length) return { _tag: 'Right', right: Number.NaN }
      const [refusal] = plan.refused
      return refusal === undefined ? { _tag: 'Right', right: plan.jobs.length } : { _tag: 'Left', left: refusal.error }
    },
  },
]
