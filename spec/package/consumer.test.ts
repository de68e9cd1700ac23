/**
 * The package as a user gets it: `npm pack` (its `prepack` builds dist/), then `npm install` of the
 * tarball into a scratch project, which imports it at run time, type-checks against its
 * declarations under three module resolutions with `strict`, still gets a shape error at compile
 * time, and runs the `tta-lens` command.
 *
 * The pack runs in a staging copy of the package's sources (with this checkout's node_modules
 * linked in), so the build never touches this checkout's dist/. The install takes packages from
 * npm's cache where `npm ci` left them (`--prefer-offline`) and runs no install scripts — the
 * consumer setup the README recommends (onnxruntime-node's script would download CUDA files).
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** What the package's sources are: everything `files` and `prepack` need, nothing else. */
const sources = ['package.json', 'README.md', 'bin', 'assets', 'src', 'kernels', 'tsconfig.json', 'tsconfig.build.json']

interface Packed {
  readonly filename: string
  readonly size: number
  readonly unpackedSize: number
  readonly files: readonly { readonly path: string }[]
}

/** Runs a command; `out` is stdout and stderr together, `stdout` alone. */
const run = async (command: string, args: readonly string[], cwd: string, timeout = 240_000): Promise<{ code: number; out: string; stdout: string }> => {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, timeout, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } })
    return { code: 0, out: `${stdout}${stderr}`, stdout }
  } catch (e) {
    const field = (name: string): unknown => (typeof e === 'object' && e !== null && name in e ? Reflect.get(e, name) : undefined)
    const code = field('code')
    const stdout = String(field('stdout') ?? '')
    return { code: typeof code === 'number' ? code : -1, out: `${stdout}${String(field('stderr') ?? '')}${e instanceof Error ? e.message : ''}`, stdout }
  }
}

/** Runs a command that must succeed; returns its stdout. */
const ok = async (command: string, args: readonly string[], cwd: string): Promise<string> => {
  const { code, out, stdout } = await run(command, args, cwd)
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}:\n${out}`)
  return stdout
}

/** A consumer's program: typed use of the root and the Node entry points (tta-lens/node, tta-lens/queue). Compiled, then run. */
const useTs = `
import * as E from 'fp-ts/lib/Either.js'
import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
import { assetPath, onnx, packageVersion, textdet } from 'tta-lens/node'
import { parseRedisUrl, shardJobId, type RedisTarget } from 'tta-lens/queue'

const double = async (x: Tensor<readonly ['N', 1, 'H', 'W']>): Promise<Tensor<readonly ['N', 1, 'H', 'W']>> =>
  orThrow(tensor(x.shape, x.data.map((v) => 2 * v)))
const image = orThrow(tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5]))
const mask = await wrap.segmentation(double, aliases.d4()).run(image)()
const width: 3 = image.shape[3]

const model = await onnx.load(assetPath('fashion-mnist/cnn_aug.onnx'), {
  inputs: { image: ['N', 1, 28, 28] },
  outputs: { logits: ['N', 10] },
})()
if (E.isLeft(model)) throw new Error(model.left.message)
const scores = await wrap.classification(model.right, aliases.hflip()).run(orThrow(tensor([1, 1, 28, 28], new Float32Array(784).fill(0.5))))()
await model.right.release()
const truth = await textdet.readTruth()()
const redis = parseRedisUrl('redis://:s3cret@127.0.0.1:6390/2')
const target: RedisTarget | string = E.isRight(redis) ? redis.right : redis.left.message

console.log(JSON.stringify({
  version: packageVersion(),
  mask: E.isRight(mask) ? Array.from(mask.right.data) : mask.left.message,
  width,
  scores: E.isRight(scores) ? scores.right.shape : scores.left.message,
  truth: E.isRight(truth) ? truth.right.length : truth.left.message,
  queue: typeof target === 'string' ? target : [target.port, target.shown, /^0123456789abcdef-[0-9a-f]{16}$/.test(shardJobId('0123456789abcdef', ['a.png']))],
}))
`

/** A browser project's program: the root alone, type-checked without Node's types. */
const browserTs = `
import * as E from 'fp-ts/lib/Either.js'
import { aliases, jsBackend, orThrow, tensor, textdet, wrap, type OnnxModel, type Tensor } from 'tta-lens'
declare const model: OnnxModel<readonly ['N', 1, 28, 28], { readonly logits: readonly ['N', 10] }>
const image = orThrow(tensor([1, 1, 28, 28], new Float32Array(784)))
export const scores = wrap.classification(model, aliases.d4(), { backend: jsBackend() }).run(image)
export const boxes = E.map(textdet.boxesFromProbability)(E.right(orThrow(tensor([1, 1, 4, 4], new Float32Array(16)))))
export const canvas: HTMLCanvasElement | null = document.querySelector('canvas')
export type View = Tensor<readonly [1, 1, 28, 28]>
`

/** A consumer's mistake the compiler must catch: a 90° turn of a 4×6 image does not fit a 4×6 model. */
const badTs = `
import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
const model = async (x: Tensor<readonly ['N', 3, 4, 6]>): Promise<Tensor<readonly ['N', 2, 4, 6]>> => orThrow(tensor([x.shape[0], 2, 4, 6], new Float32Array(x.shape[0] * 48)))
const image = orThrow(tensor([1, 3, 4, 6], new Float32Array(72)))
export const result = wrap.segmentation(model, aliases.d4()).run(image)
`

const tsconfig = (options: Record<string, unknown>, files: readonly string[]): string => JSON.stringify({
  compilerOptions: { target: 'ES2022', lib: ['ES2022'], types: ['node'], strict: true, skipLibCheck: false, ...options },
  files,
}, null, 2)

/** The compiler runs, started together once the consumer is installed (each test awaits its own). */
const checks = new Map<string, Promise<{ code: number; out: string }>>()
const check = (config: string): Promise<{ code: number; out: string }> => {
  const started = checks.get(config)
  if (started === undefined) throw new Error(`no compiler run for ${config}: the consumer was not set up`)
  return started
}

let work = ''
let consumer = ''
let packed: Packed | undefined
let manifest: { readonly version: string } = { version: '' }

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tta-lens-consumer-'))
  const staging = join(work, 'package')
  await mkdir(staging)
  for (const entry of sources) await cp(join(root, entry), join(staging, entry), { recursive: true })
  await symlink(join(root, 'node_modules'), join(staging, 'node_modules'), 'dir')
  const manifestText = await readFile(join(root, 'package.json'), 'utf8')
  const parsed: unknown = JSON.parse(manifestText)
  const version: unknown = typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'version') : undefined
  manifest = { version: typeof version === 'string' ? version : '' }

  // `npm pack` runs `prepack` (the build) only with scripts on; this repository's .npmrc turns them off.
  const packOut = await ok(npm, ['pack', '--ignore-scripts=false', '--json', '--pack-destination', work], staging)
  const json: unknown = JSON.parse(packOut)
  const first: unknown = Array.isArray(json) ? json[0] : undefined
  if (typeof first !== 'object' || first === null) throw new Error(`npm pack printed no JSON:\n${packOut}`)
  const get = (k: string): unknown => Reflect.get(first, k)
  const files = get('files')
  packed = {
    filename: String(get('filename')),
    size: Number(get('size')),
    unpackedSize: Number(get('unpackedSize')),
    files: Array.isArray(files) ? files.map((f: unknown) => ({ path: typeof f === 'object' && f !== null ? String(Reflect.get(f, 'path')) : '' })) : [],
  }

  consumer = join(work, 'consumer')
  await mkdir(consumer)
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  const typesManifest: unknown = JSON.parse(await readFile(join(root, 'node_modules', '@types', 'node', 'package.json'), 'utf8'))
  const typesNode = typeof typesManifest === 'object' && typesManifest !== null ? String(Reflect.get(typesManifest, 'version')) : 'latest'
  await ok(npm, ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock',
    join(work, packed.filename), `@types/node@${typesNode}`], consumer)
  await writeFile(join(consumer, 'use.ts'), useTs)
  await writeFile(join(consumer, 'bad.ts'), badTs)
  await writeFile(join(consumer, 'browser.ts'), browserTs)
  await writeFile(join(consumer, 'tsconfig.nodenext.json'), tsconfig({ module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out' }, ['use.ts']))
  await writeFile(join(consumer, 'tsconfig.node16.json'), tsconfig({ module: 'Node16', moduleResolution: 'Node16', noEmit: true, skipLibCheck: true }, ['use.ts']))
  await writeFile(join(consumer, 'tsconfig.bundler.json'), tsconfig({ module: 'ESNext', moduleResolution: 'Bundler', noEmit: true, skipLibCheck: true }, ['use.ts']))
  await writeFile(join(consumer, 'tsconfig.browser.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', lib: ['ES2022', 'DOM'], types: [], strict: true, skipLibCheck: false, module: 'ESNext', moduleResolution: 'Bundler', noEmit: true },
    files: ['browser.ts'],
  }, null, 2))
  await writeFile(join(consumer, 'tsconfig.bad.json'), tsconfig({ module: 'NodeNext', moduleResolution: 'NodeNext', noEmit: true, skipLibCheck: true }, ['bad.ts']))
  for (const config of ['tsconfig.nodenext.json', 'tsconfig.node16.json', 'tsconfig.bundler.json', 'tsconfig.browser.json', 'tsconfig.bad.json']) {
    checks.set(config, run(process.execPath, [tsc, '-p', config], consumer))
  }
}, 600_000)

afterAll(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true })
})

describe('the packed package', () => {
  it('holds the build with declarations, the command and the assets, and no tests, benchmarks or tools', () => {
    const paths = new Set(packed?.files.map((f) => f.path))
    for (const needed of ['package.json', 'README.md', 'bin/tta-lens.mjs', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/node.js',
      'dist/src/node.d.ts', 'dist/src/web.js', 'dist/src/web.d.ts', 'dist/src/queue/index.js', 'dist/src/queue/index.d.ts', 'dist/src/cli/main.js',
      'dist/kernels/ir.js', 'assets/fashion-mnist/cnn_aug.onnx', 'assets/textdet/truth.json']) {
      expect(paths, needed).toContain(needed)
    }
    const stray = [...paths].filter((p) => /^(spec|bench|tools|src|kernels|docs|node_modules)\//.test(p) || /\.ts$/.test(p) && !/\.d\.ts$/.test(p))
    expect(stray).toEqual([])
    // Printed for the record (docs and the closing note quote it).
    console.info(`tarball ${packed?.filename}: ${((packed?.size ?? 0) / 1e6).toFixed(1)} MB packed, ${((packed?.unpackedSize ?? 0) / 1e6).toFixed(1)} MB unpacked, ${paths.size} files`)
  })
})

describe('a consumer project that installed the tarball', { timeout: 300_000 }, () => {
  // Declarations (ours and our dependencies') are checked in full under nodenext and in the
  // browser setting; the other runs skip library checking, which only repeats that work.
  it('type-checks under moduleResolution nodenext with strict, compiles, and runs (ESM, assets found from dist/)', async () => {
    expect((await check('tsconfig.nodenext.json')).out).toBe('')
    const out = await ok(process.execPath, ['out/use.js'], consumer)
    const result: unknown = JSON.parse(out.trim().split('\n').pop() ?? '')
    expect(result).toEqual({ version: manifest.version, mask: [0, 2, 4, 6, 8, 10], width: 3, scores: [1, 10], truth: 80, queue: [6390, 'redis://:***@127.0.0.1:6390/2', true] })
  })

  it('type-checks under moduleResolution node16 with strict', async () => {
    expect((await check('tsconfig.node16.json')).out).toBe('')
  })

  it('type-checks under moduleResolution bundler with strict', async () => {
    expect((await check('tsconfig.bundler.json')).out).toBe('')
  })

  it("type-checks the root in a browser setting: lib DOM, without Node's types", async () => {
    expect((await check('tsconfig.browser.json')).out).toBe('')
  })

  it('still gets the shape error at compile time', async () => {
    const { code, out } = await check('tsconfig.bad.json')
    expect(code).not.toBe(0)
    expect(out).toMatch(/bad\.ts\(5,\d+\): error TS2345/)
    expect(out).toMatch(/view \[1,3,6,4\] does not fit model input \[N,3,4,6\]/)
  })

  it('has the tta-lens command, which prints its version and runs from dist/', async () => {
    const bin = join(consumer, 'node_modules', '.bin', 'tta-lens')
    expect((await ok(bin, ['--version'], consumer)).trim()).toBe(manifest.version)
    const explained = await ok(bin, ['explain', '-m', join(consumer, 'node_modules', 'tta-lens', 'assets', 'fashion-mnist', 'cnn_aug.onnx'),
      '--tta', 'hflip', '--shape', '1x1x28x28'], consumer)
    expect(explained).toMatch(/2 views/)
  })
})
