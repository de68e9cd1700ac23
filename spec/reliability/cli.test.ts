/**
 * The `tta-lens` command as a subprocess, fed bad input, by class (docs/reliability.md). Every case
 * runs in its own copy of a small workspace and asserts the exit code, the exact lines on stderr
 * (the progress bar aside), the summary on stdout where there is one, and that no file in the
 * workspace changed except those the case names. Limit cases also bound the process's peak RSS.
 */
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, createDeflate } from 'node:zlib'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { changedPaths, classNames, messages, refusalRssBoundKiB, snapshot, tta, type CliResult } from './helpers.js'

const model = (name: string): string => new URL(`../fixtures/models/${name}`, import.meta.url).pathname
const seg = model('seg_conv1x1_sigmoid.onnx')
const cls = model('cls_gap_softmax.onnx')

interface CliCase {
  readonly cls: 1 | 2 | 3 | 4 | 5
  readonly title: string
  readonly args: readonly string[]
  /** Case-specific setup in the case's workspace, before the "before" snapshot. */
  readonly prepare?: (dir: string) => Promise<void>
  readonly code: number
  /** Every line on stderr, exactly (a RegExp where the text comes from the OS or another library). */
  readonly stderr: readonly (string | RegExp)[]
  readonly stdout?: string | RegExp
  /** Workspace paths this case may change (outputs it writes); everything else must stay as it was. */
  readonly changes?: readonly (string | RegExp)[]
  /** Bound the peak RSS (a limit case). */
  readonly rss?: boolean
  /** More checks on the workspace afterwards. */
  readonly after?: (dir: string, result: CliResult) => Promise<void>
}

const summary = (written: number, skipped: number, failed: number, out: string): string =>
  `${written} written, ${skipped} already done (skipped), ${failed} failed → ${out}\n`
const usage = (text: string): string => `tta-lens: ${text} (see --help)`

/** A PNG whose header says 16000×16000 RGB: 3.3 MB of file, 768,000,000 values decoded (the case, made here). */
const writeHugePng = async (path: string): Promise<void> => {
  const chunk = (type: string, data: Buffer): Buffer => {
    const out = Buffer.alloc(12 + data.length)
    out.writeUInt32BE(data.length, 0)
    out.write(type, 4, 'latin1')
    data.copy(out, 8)
    out.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])) >>> 0, 8 + data.length)
    return out
  }
  const side = 16000
  const header = Buffer.alloc(13)
  header.writeUInt32BE(side, 0)
  header.writeUInt32BE(side, 4)
  header[8] = 8 // bits per sample
  header[9] = 2 // RGB
  const deflate = createDeflate({ level: 1 })
  const parts: Buffer[] = []
  deflate.on('data', (b: Buffer) => parts.push(b))
  const ended = new Promise((resolve) => deflate.on('end', resolve))
  const row = Buffer.alloc(1 + side * 3)
  for (let y = 0; y < side; y++) if (!deflate.write(row)) await new Promise((resolve) => deflate.once('drain', resolve))
  deflate.end()
  await ended
  const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', Buffer.concat(parts)), chunk('IEND', Buffer.alloc(0))])
  await writeFile(path, png)
}

const idx = (dims: readonly number[], body: readonly number[] = []): Buffer => {
  const out = Buffer.alloc(4 + 4 * dims.length + body.length)
  out[2] = 8
  out[3] = dims.length
  dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i))
  body.forEach((v, i) => { out[4 + 4 * dims.length + i] = v })
  return out
}

let template = ''
let hugePng = ''
beforeAll(async () => {
  template = await mkdtemp(join(tmpdir(), 'tta-cli-template-'))
  const pixels = (seed: number, n: number) => Buffer.from(Array.from({ length: n * 3 }, (_, i) => (i * seed) % 256))
  const png = (seed: number, h: number, w: number, path: string) => sharp(pixels(seed, h * w), { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(template, path))
  for (const d of ['a', 'b', 'sq', 'cfg', 'idx', 'classes/shirt', 'classes/shoe', 'long']) await mkdir(join(template, d), { recursive: true })
  await png(7, 8, 12, 'a/x.png')
  await png(5, 8, 12, 'a/y.png')
  await png(13, 8, 12, 'b/x.png')
  await png(3, 28, 28, 'sq/p.png')
  await png(11, 28, 28, 'sq/q.png')
  await png(17, 8, 12, `long/${'l'.repeat(250)}.png`)
  await png(19, 8, 12, 'long/short.png')
  await writeFile(join(template, 'broken.png'), 'this is not a PNG')
  await writeFile(join(template, 'cfg/extra.json'), JSON.stringify({ transforms: [{ name: 'hflip', p: 0.5 }] }))
  await writeFile(join(template, 'cfg/types.json'), JSON.stringify({ transforms: [{ name: 'hflip' }, { name: 'scale', scales: [0.5, '2'] }] }))
  await writeFile(join(template, 'cfg/top.json'), JSON.stringify({ transforms: [{ name: 'hflip' }], policy: 'd4' }))
  await writeFile(join(template, 'cfg/bad.json'), '{"transforms": [')
  await writeFile(join(template, 'cfg/mul.json'), JSON.stringify({ transforms: [{ name: 'multiply', factors: [1e38] }] }))
  await writeFile(join(template, 'idx/huge-images.idx'), idx([2 ** 31 - 1, 2 ** 16, 2 ** 16]))
  await writeFile(join(template, 'idx/labels.idx'), idx([1], [0]))
  await writeFile(join(template, 'idx/corrupt.idx'), 'not an IDX file at all')
  hugePng = join(await mkdtemp(join(tmpdir(), 'tta-cli-huge-')), 'huge.png')
  await writeHugePng(hugePng)
}, 120_000)

const cases: readonly CliCase[] = [
  // ── 1. hangs and runaway memory ──────────────────────────────────────────────────────────────
  {
    cls: 1, rss: true, title: '--size 100000x100000 is refused before any image is read',
    args: ['run', 'a', '-m', seg, '-t', 'segmentation', '-o', 'out', '--size', '100000x100000'],
    code: 2, stderr: ['tta-lens: LimitError: resizing to 100000x100000 makes 30,000,000,000 values; the limit is 268,435,456'],
  },
  {
    cls: 1, rss: true, title: '--threads 100000 is refused before onnxruntime starts a thread',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--threads', '100000'],
    code: 2, stderr: [usage("option '--threads <n>' argument '100000' is invalid. threads must be at most 256, got 100,000")],
  },
  {
    cls: 1, rss: true, title: 'a 16000×16000 PNG is refused from its header, before decoding (was 4.7 GB RSS)',
    prepare: async (dir) => copyFile(hugePng, join(dir, 'huge.png')),
    args: ['run', 'huge.png', 'a/x.png', '-m', seg, '-t', 'segmentation', '-o', 'out'],
    code: 1, stderr: ['failed: huge.png: LimitError: huge.png is 16000x16000 (from its header): decoding it needs 768,000,000 values; the limit is 268,435,456'],
    stdout: summary(1, 0, 1, 'out'), changes: ['out/', 'out/x.mask.npy', 'out/x.mask.png'],
  },
  {
    cls: 1, rss: true, title: 'bench --shape 1x3x100000x100000 is refused before the synthetic image is allocated',
    args: ['bench', '-m', seg, '-t', 'segmentation', '--shape', '1x3x100000x100000'],
    code: 2, stderr: ['tta-lens: LimitError: the image [1,3,100000,100000] holds 30,000,000,000 values; the limit is 268,435,456 (1.0 GiB of float32)'],
  },
  {
    cls: 1, rss: true, title: 'explain: a plan over the default memory budget says how to allow it',
    args: ['explain', '-m', seg, '-t', 'segmentation', '--shape', '1x3x8192x8192'],
    code: 2, stderr: ['tta-lens: LimitError: the default memory budget of 2.0 GiB (pass a larger `budget` to allow it) is too small for one view: the image, the merge and one 8192x8192 view need 3.0 GiB'],
  },
  {
    cls: 1, title: 'bench --runs 1000000 is refused instead of running for days',
    args: ['bench', '-m', cls, '--shape', '1x3x8x8', '--runs', '1000000'],
    code: 2, stderr: [usage("option '--runs <n>' argument '1000000' is invalid. runs must be at most 1,000, got 1,000,000")],
  },
  {
    cls: 1, title: 'a policy of 262,144 views is refused before any work',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--tta', 'd4+d4+d4+d4+d4+d4'],
    code: 2, stderr: ['tta-lens: LimitError: the product has 262,144 views; the limit is 4,096'],
  },
  {
    cls: 1, rss: true, title: 'multiscale:100000 fails each image from its plan, not from an allocation',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--tta', 'multiscale:100000'],
    code: 1,
    stderr: [
      "failed: a/x.png: LimitError: a buffer of view 'Scale(100000)' [1,3,800000,1200000] holds 2,880,000,000,000 values; the limit is 268,435,456 (1.0 GiB of float32)",
      "failed: a/y.png: LimitError: a buffer of view 'Scale(100000)' [1,3,800000,1200000] holds 2,880,000,000,000 values; the limit is 268,435,456 (1.0 GiB of float32)",
    ],
    stdout: summary(0, 0, 2, 'out'), changes: ['out/'],
  },
  {
    cls: 1, rss: true, title: 'eval: an IDX header claiming 2**63 values is refused before reading the data',
    args: ['eval', '-m', cls, '--idx', 'idx/huge-images.idx', 'idx/labels.idx'],
    code: 2, stderr: ['tta-lens: LimitError: the IDX header says [2147483647,65536,65536] = 9,223,372,032,559,809,000 values; the limit is 268,435,456'],
  },
  {
    cls: 1, title: '--budget 1KiB: each image fails with the budget named',
    args: ['run', 'a/x.png', '-m', seg, '-t', 'segmentation', '-o', 'out', '--budget', '1KiB'],
    code: 1, stderr: ['failed: a/x.png: LimitError: a memory budget of 1.0 KiB is too small for one view: the image, the merge and one 8x12 view need 4.5 KiB'],
    stdout: summary(0, 0, 1, 'out'), changes: ['out/'],
  },

  // ── 2. non-finite values returned as success ─────────────────────────────────────────────────
  {
    cls: 2, title: 'eval --folder without class sub-folders is an error, not "NaN%" with exit 0',
    args: ['eval', '-m', cls, '--folder', 'a'],
    code: 2, stderr: ['tta-lens: --folder a has no class sub-folders (one folder of images per class)'],
  },
  {
    cls: 2, title: 'eval --folder whose class folders hold no image is an error',
    args: ['eval', '-m', cls, '--folder', 'classes'],
    code: 2, stderr: ['tta-lens: --folder classes has no readable images in its class sub-folders (shirt, shoe)'],
  },
  {
    cls: 2, title: 'Multiply(1e38) past the float32 range: each image fails naming the view',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--config', 'cfg/mul.json', '--mean', '0,0,0', '--std', '0.1,0.1,0.1'],
    code: 1,
    stderr: [
      /^failed: a\/x\.png: NonFiniteError: view 'Multiply\(1e\+38\)' has Infinity at index \d+ after augmentation \(what the model would be fed\)$/,
      /^failed: a\/y\.png: NonFiniteError: view 'Multiply\(1e\+38\)' has Infinity at index \d+ after augmentation \(what the model would be fed\)$/,
    ],
    stdout: summary(0, 0, 2, 'out'), changes: ['out/'],
  },
  {
    cls: 2, title: 'a std so small that pixels become Infinity: the input image is refused',
    args: ['run', 'a/x.png', '-m', cls, '-o', 'out', '--std', '1e-45,1,1'],
    code: 1, stderr: [/^failed: a\/x\.png: NonFiniteError: the input image has Infinity at index \d+$/],
    stdout: summary(0, 0, 1, 'out'), changes: ['out/'],
  },

  // ── 3. outputs lost or polluted ──────────────────────────────────────────────────────────────
  {
    cls: 3, title: 'two inputs with the same stem are both refused, naming each other; the rest is written',
    args: ['run', 'a', 'b', '-m', cls, '-o', 'out'],
    code: 1,
    stderr: [
      'failed: a/x.png: a/x.png and b/x.png would both write out/x.json; rename one or run them separately',
      'failed: b/x.png: b/x.png and a/x.png would both write out/x.json; rename one or run them separately',
    ],
    stdout: summary(1, 0, 2, 'out'), changes: ['out/', 'out/y.json'],
  },
  {
    cls: 3, title: 'output folder = input folder: a rerun does not read its own masks as images',
    prepare: async (dir) => {
      const first = await tta(dir, ['run', 'a', '-m', seg, '-t', 'segmentation', '-o', 'a'])
      expect(first.stdout).toBe(summary(2, 0, 0, 'a'))
    },
    args: ['run', 'a', '-m', seg, '-t', 'segmentation', '-o', 'a'],
    code: 0, stderr: [], stdout: summary(0, 2, 0, 'a'),
  },
  {
    cls: 3, title: '--force leaves a read-only output alone, with a message',
    prepare: async (dir) => {
      await mkdir(join(dir, 'out'))
      await writeFile(join(dir, 'out/x.json'), '{"kept": true}\n')
      await chmod(join(dir, 'out/x.json'), 0o444)
    },
    args: ['run', 'a/x.png', '-m', cls, '-o', 'out', '--force'],
    code: 1, stderr: ['failed: a/x.png: out/x.json is read-only; left unchanged (make it writable to recompute it)'],
    stdout: summary(0, 0, 1, 'out'),
  },
  {
    cls: 3, title: 'temporary files of a killed run are removed; a partial output set is redone',
    prepare: async (dir) => {
      await mkdir(join(dir, 'out'))
      const host = hostname().replace(/[^A-Za-z0-9-]/g, '_')
      await writeFile(join(dir, `out/.x.mask.npy.${host}-999999999-0123abcd.tta-tmp`), 'half written')
      await writeFile(join(dir, 'out/x.mask.png'), 'left by the killed run')
    },
    args: ['run', 'a/x.png', '-m', seg, '-t', 'segmentation', '-o', 'out'],
    code: 0, stderr: [], stdout: summary(1, 0, 0, 'out'),
    changes: ['out/x.mask.png', 'out/x.mask.npy', /^out\/\.x\.mask\.npy\..*\.tta-tmp$/],
    after: async (dir) => {
      expect((await readdir(join(dir, 'out'))).sort()).toEqual(['x.mask.npy', 'x.mask.png'])
      expect((await sharp(join(dir, 'out/x.mask.png')).metadata()).width).toBe(12)
    },
  },
  {
    cls: 3, title: 'a complete output set is skipped on a rerun and kept byte for byte',
    prepare: async (dir) => {
      const first = await tta(dir, ['run', 'a/x.png', '-m', cls, '-o', 'out'])
      expect(first.code).toBe(0)
    },
    args: ['run', 'a/x.png', '-m', cls, '-o', 'out'],
    code: 0, stderr: [], stdout: summary(0, 1, 0, 'out'),
  },

  // ── 4. data that does not match its shape ────────────────────────────────────────────────────
  {
    cls: 4, title: '--config with an extra key is refused, naming the key',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--config', 'cfg/extra.json'],
    code: 2, stderr: ["tta-lens: ParamError: --config cfg/extra.json: transforms[0]: unknown key 'p' (known: name)"],
  },
  {
    cls: 4, title: '--config with an extra top-level key is refused',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--config', 'cfg/top.json'],
    code: 2, stderr: ["tta-lens: ParamError: --config cfg/top.json: unknown key 'policy' (known: transforms)"],
  },
  {
    cls: 4, title: '--config with a wrong type names the field',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--config', 'cfg/types.json'],
    code: 2, stderr: ['tta-lens: ParamError: --config cfg/types.json: transforms[1].scales[1]: expected number, got "2"'],
  },
  {
    cls: 4, title: '--config that is not JSON is one line',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--config', 'cfg/bad.json'],
    code: 2, stderr: [/^tta-lens: cannot read the transform config cfg\/bad\.json: .*JSON.*$/],
  },
  {
    cls: 4, title: '--std -1 is refused (one channel)',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--channels', '1', '--std', '-1'],
    code: 2, stderr: ['tta-lens: ParamError: preprocess: std[0] must be a finite number > 0, got -1'],
  },
  {
    cls: 4, title: '--std with one value for three channels is refused instead of applying to the first only',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--std', '0.5'],
    code: 2, stderr: ['tta-lens: ParamError: preprocess: std needs 3 values (one per channel), got 1'],
  },
  {
    cls: 4, title: '--mean abc is refused by the flag parser',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--mean', 'abc'],
    code: 2, stderr: [usage("option '--mean <a,b,c>' argument 'abc' is invalid. expected comma-separated numbers, got 'abc'")],
  },
  {
    cls: 4, title: '--size 0x5 is refused',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--size', '0x5'],
    code: 2, stderr: ['tta-lens: ParamError: preprocess: size must be [height, width] positive integers, got [0,5]'],
  },
  {
    cls: 4, title: 'shifts:28 on 28×28 images fails each image instead of blanking four of five views (was exit 0)',
    args: ['run', 'sq', '-m', cls, '-o', 'out', '--tta', 'shifts:28'],
    code: 1,
    stderr: [
      'failed: sq/p.png: ShapeError: Translate by [0,28] moves a 28x28 image entirely out of the frame: shifts must be smaller than the image (|dy| < 28, |dx| < 28)',
      'failed: sq/q.png: ShapeError: Translate by [0,28] moves a 28x28 image entirely out of the frame: shifts must be smaller than the image (|dy| < 28, |dx| < 28)',
    ],
    stdout: summary(0, 0, 2, 'out'), changes: ['out/'],
  },
  {
    cls: 4, title: '--backend cuda is refused',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--backend', 'cuda'],
    code: 2, stderr: [usage("option '--backend <name>' argument 'cuda' is invalid. Allowed choices are js, reference, gpujs.")],
  },
  {
    cls: 4, title: '--coordinates inches is refused',
    args: ['run', 'a', '-m', model('kp_softargmax.onnx'), '-t', 'keypoints', '-o', 'out', '--coordinates', 'inches'],
    code: 2, stderr: [usage("option '--coordinates <kind>' argument 'inches' is invalid. Allowed choices are pixels, normalized.")],
  },
  {
    cls: 4, title: '--budget lots is refused, naming the flag',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--budget', 'lots'],
    code: 2, stderr: ['tta-lens: ParamError: --budget: cannot read the memory budget "lots": use bytes or a size such as \'512MiB\' or \'2GB\''],
  },
  {
    cls: 4, title: '--output-name that the model lacks is refused',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--output-name', 'nope'],
    code: 2, stderr: ["tta-lens: ModelError: the model has no output 'nope'; its outputs are probs"],
  },
  {
    cls: 4, title: 'explain --shape 1x3 is refused as a rank error',
    args: ['explain', '-m', cls, '--shape', '1x3'],
    code: 2, stderr: ['tta-lens: ShapeError: the image must be NCHW (rank 4) but has shape [1,3]'],
  },
  {
    cls: 4, title: 'a classifier run as a keypoint model is refused before any image',
    args: ['run', 'a', '-m', cls, '-t', 'keypoints', '-o', 'out'],
    code: 2, stderr: ["tta-lens: ShapeError: a keypoint model must return [N,2K] coordinates (x, y per point), but this model's output is [N,5]"],
  },
  {
    cls: 4, title: '--idx with one file is refused',
    args: ['eval', '-m', cls, '--idx', 'idx/labels.idx'],
    code: 2, stderr: ['tta-lens: --idx takes two files, images then labels; got 1'],
  },

  // ── 5. crashes with stack traces ─────────────────────────────────────────────────────────────
  {
    cls: 5, title: 'eval --folder that does not exist is one line',
    args: ['eval', '-m', cls, '--folder', 'missing'],
    code: 2, stderr: ["tta-lens: cannot read the --folder missing: ENOENT: no such file or directory, scandir 'missing'"],
  },
  {
    cls: 5, title: 'a read-only output folder is one line, and nothing is written',
    prepare: async (dir) => {
      await mkdir(join(dir, 'out'))
      await chmod(join(dir, 'out'), 0o555)
    },
    args: ['run', 'a', '-m', cls, '-o', 'out'],
    code: 2, stderr: ['tta-lens: FileError: the output folder out is read-only'],
  },
  {
    cls: 5, title: '-o naming an existing file is one line, and the file is kept',
    args: ['run', 'a', '-m', cls, '-o', 'a/x.png'],
    code: 2, stderr: ['tta-lens: FileError: the output folder a/x.png is a file'],
  },
  {
    cls: 5, title: 'a failed write fails that file, not the batch',
    args: ['run', 'long', '-m', seg, '-t', 'segmentation', '-o', 'out'],
    code: 1, stderr: [/^failed: long\/l{250}\.png: cannot write out\/l{250}\.mask\.png: ENAMETOOLONG: name too long, open '.*\.tta-tmp'$/],
    stdout: summary(1, 0, 1, 'out'), changes: ['out/', 'out/short.mask.npy', 'out/short.mask.png'],
  },
  {
    cls: 5, title: 'explain: the dry run catches a classifier used as a segmentation model',
    args: ['explain', '-m', cls, '-t', 'segmentation', '--shape', '1x3x8x8'],
    code: 2, stderr: ["tta-lens: dry run: a segmentation model must return [N,K,H,W] masks, but this model's output is [N,5] (a classifier?)"],
    stdout: /^8 views · 1 chunk \(8\) · segmentation of \[1,3,8,8\]/,
  },
  {
    cls: 5, title: 'run: a classifier used as a segmentation model is refused before any image, and nothing is written',
    args: ['run', 'a', '-m', cls, '-t', 'segmentation', '-o', 'out'],
    code: 2, stderr: ["tta-lens: ShapeError: a segmentation model must return [N,K,H,W] masks, but this model's output is [N,5] (a classifier?)"],
  },
  {
    cls: 5, title: 'a model file that does not exist is one line',
    args: ['run', 'a', '-m', 'nope.onnx', '-o', 'out'],
    code: 2, stderr: ["tta-lens: ModelError: cannot open \"nope.onnx\": ENOENT: no such file or directory, stat 'nope.onnx'"],
  },
  {
    cls: 5, title: 'a folder given as the model is one line',
    args: ['run', 'a', '-m', 'a', '-o', 'out'],
    code: 2, stderr: ['tta-lens: ModelError: cannot open "a": it is not a file'],
  },
  {
    cls: 5, title: 'a file that is not a model is one line',
    args: ['run', 'a', '-m', 'broken.png', '-o', 'out'],
    code: 2, stderr: [/^tta-lens: ModelError: cannot open "broken\.png" as an ONNX model: .+$/],
  },
  {
    cls: 5, title: 'an input that does not exist fails alone',
    args: ['run', 'missing', 'a/x.png', '-m', cls, '-o', 'out'],
    code: 1, stderr: ['failed: missing: no such file or folder'], stdout: summary(1, 0, 1, 'out'), changes: ['out/', 'out/x.json'],
  },
  {
    cls: 5, title: 'a corrupt image fails alone',
    args: ['run', 'broken.png', 'a/y.png', '-m', cls, '-o', 'out'],
    code: 1, stderr: [/^failed: broken\.png: cannot read image "broken\.png": .+$/], stdout: summary(1, 0, 1, 'out'), changes: ['out/', 'out/y.json'],
  },
  {
    cls: 5, title: 'an unknown command is one line',
    args: ['frobnicate'],
    code: 2, stderr: [usage("unknown command 'frobnicate'")],
  },
  {
    cls: 5, title: 'eval --idx with a file that is not IDX is one line',
    args: ['eval', '-m', cls, '--idx', 'idx/corrupt.idx', 'idx/labels.idx'],
    code: 2, stderr: ['tta-lens: ShapeError: not an IDX file (bad magic number)'],
  },
  {
    cls: 5, title: '--config naming a folder is one line',
    args: ['run', 'a', '-m', cls, '-o', 'out', '--config', 'cfg'],
    code: 2, stderr: ['tta-lens: cannot read the transform config cfg: not a file'],
  },
]

const workspace = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'tta-cli-case-'))
  await cp(template, dir, { recursive: true })
  return dir
}

for (const k of [1, 2, 3, 4, 5] as const) {
  describe.concurrent(`CLI, class ${k}: ${classNames[k]}`, () => {
    for (const c of cases.filter((x) => x.cls === k)) {
      it(c.title, async () => {
        const dir = await workspace()
        await c.prepare?.(dir)
        const before = await snapshot(dir)
        const result = await tta(dir, c.args)
        expect({ code: result.code, stderr: messages(result.stderr) }).toEqual({ code: c.code, stderr: c.stderr.map((line) => (typeof line === 'string' ? line : expect.stringMatching(line))) })
        if (c.stdout !== undefined) expect(result.stdout).toMatch(typeof c.stdout === 'string' ? new RegExp(`^${c.stdout.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : c.stdout)
        const allowed = (path: string): boolean => (c.changes ?? []).some((p) => (typeof p === 'string' ? p === path : p.test(path)))
        expect(changedPaths(before, await snapshot(dir)).filter((p) => !allowed(p))).toEqual([])
        if (process.env.TTA_RSS_REPORT !== undefined) process.stdout.write(`peak RSS ${(result.rssKiB / 1024).toFixed(0)} MiB: CLI ${c.title}\n`)
        if (c.rss === true) expect(result.rssKiB).toBeLessThanOrEqual(refusalRssBoundKiB)
        else expect(result.rssKiB).toBeGreaterThan(0) // the probe ran: the bound above is real where it is used
        await c.after?.(dir, result)
      }, 240_000) // a process start is ~1.5 s alone, but much longer on a busy shared machine
    }
  })
}

describe(`CLI, class 3: ${classNames[3]} — an interrupted run`, () => {
  it('SIGINT during a run: exit 130, one line, finished outputs complete, no temporary file; a rerun finishes the rest', async () => {
    const dir = await workspace()
    const many = join(dir, 'many')
    await mkdir(many)
    for (let i = 0; i < 40; i++) await copyFile(join(dir, i % 2 === 0 ? 'a/x.png' : 'a/y.png'), join(many, `im${String(i).padStart(2, '0')}.png`))
    const args = ['run', 'many', '-m', seg, '-t', 'segmentation', '--tta', 'd4', '-o', 'out']
    const cli = new URL('../../bin/tta-lens.mjs', import.meta.url).pathname
    const child = spawn(process.execPath, [cli, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
    // Interrupt once the first output exists (the run is under way, most images not yet done).
    const started = Date.now()
    while (Date.now() - started < 60_000) {
      const names = await readdir(join(dir, 'out')).catch(() => [])
      if (names.some((n) => n.endsWith('.mask.npy'))) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    child.kill('SIGINT')
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    expect(code).toBe(130)
    expect(messages(stderr).filter((l) => l.startsWith('tta-lens'))).toEqual(['tta-lens: interrupted by SIGINT; finished outputs are kept, no partial file is left'])
    const names = await readdir(join(dir, 'out'))
    expect(names.filter((n) => n.endsWith('.tta-tmp'))).toEqual([])
    for (const name of names.filter((n) => n.endsWith('.mask.png'))) expect((await sharp(join(dir, 'out', name)).metadata()).width).toBe(12)
    for (const name of names.filter((n) => n.endsWith('.mask.npy'))) expect((await stat(join(dir, 'out', name))).size).toBe(128 + 2 * 8 * 12 * 4)
    const pairs = names.filter((n) => n.endsWith('.mask.npy')).length
    expect(pairs).toBeLessThan(40)
    const rerun = await tta(dir, args)
    expect(rerun.code).toBe(0)
    const done = /^(\d+) written, (\d+) already done/.exec(rerun.stdout)
    expect(Number(done?.[1]) + Number(done?.[2])).toBe(40)
    expect(Number(done?.[2])).toBeGreaterThanOrEqual(pairs - 1) // at most the set cut mid-way is redone
    expect((await readFile(join(dir, 'out/im00.mask.npy'))).subarray(1, 6).toString()).toBe('NUMPY')
  }, 180_000)
})
