import fs from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { resamplePlanes, type Interpolation } from '../../../src/backend/reference/resample.js'
import { ttachGoldenFile } from '../../parity/golden.js'

// ---------------------------------------------------------------------------------------------
// Hand-computed cases (values also confirmed against PyTorch 1.13.1 on CPU)
// ---------------------------------------------------------------------------------------------

const ALL_MODES: readonly Interpolation[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area']

describe('resamplePlanes (hand-computed)', () => {
  it('nearest 2×2 → 4×4 repeats every pixel in a 2×2 block', () => {
    const out = resamplePlanes(Float32Array.of(1, 2, 3, 4), 1, 2, 2, 4, 4, 'nearest', false)
    expect(Array.from(out)).toEqual([
      1, 1, 2, 2,
      1, 1, 2, 2,
      3, 3, 4, 4,
      3, 3, 4, 4,
    ])
  })

  it('nearest downsampling takes the top-left pixel of each block, per plane', () => {
    const src = Float32Array.from({ length: 2 * 16 }, (_, i) => i)
    const out = resamplePlanes(src, 2, 4, 4, 2, 2, 'nearest', false)
    expect(Array.from(out)).toEqual([0, 2, 8, 10, 16, 18, 24, 26])
  })

  it('nearest uses float32 index arithmetic (2 → 82 reads pixel 0 at dst 41, not 1)', () => {
    // In float64, 41 * (2/82) is exactly 1; PyTorch's float32 scale makes it 0.99999994.
    const out = resamplePlanes(Float32Array.of(0, 1), 1, 1, 2, 1, 82, 'nearest', false)
    expect(Array.from(out.subarray(40, 43))).toEqual([0, 0, 1])
  })

  it('nearest-exact rounds pixel centres, with float32 arithmetic (2 → 41 reads pixel 0 at dst 20)', () => {
    expect(Array.from(resamplePlanes(Float32Array.of(0, 1, 2), 1, 1, 3, 1, 2, 'nearest-exact', false))).toEqual([0, 2])
    expect(Array.from(resamplePlanes(Float32Array.of(0, 1, 2), 1, 1, 3, 1, 2, 'nearest', false))).toEqual([0, 1])
    const out = resamplePlanes(Float32Array.of(0, 1), 1, 1, 2, 1, 41, 'nearest-exact', false)
    expect(Array.from(out.subarray(19, 22))).toEqual([0, 0, 1])
  })

  it('area 4×4 → 2×2 averages each 2×2 block', () => {
    const src = Float32Array.from({ length: 16 }, (_, i) => i)
    const out = resamplePlanes(src, 1, 4, 4, 2, 2, 'area', false)
    expect(Array.from(out)).toEqual([2.5, 4.5, 10.5, 12.5])
  })

  it('area windows overlap when the ratio is not an integer (5 → 3)', () => {
    // Windows [0,2), [1,4), [3,5).
    const out = resamplePlanes(Float32Array.of(0, 1, 2, 3, 4), 1, 1, 5, 1, 3, 'area', false)
    expect(Array.from(out)).toEqual([0.5, 2, 3.5])
  })

  it('the identity size returns the input unchanged in every mode', () => {
    const src = Float32Array.from({ length: 3 * 5 * 7 }, (_, i) => ((i * 37) % 23) / 8 - 1.25)
    for (const mode of ALL_MODES) {
      for (const alignCorners of mode === 'bilinear' || mode === 'bicubic' ? [false, true] : [false]) {
        const out = resamplePlanes(src, 3, 5, 7, 5, 7, mode, alignCorners)
        expect(Array.from(out), `${mode} alignCorners=${alignCorners}`).toEqual(Array.from(src))
      }
    }
  })

  it('bilinear with alignCorners keeps the four corners and interpolates between them', () => {
    const out = resamplePlanes(Float32Array.of(1, 2, 3, 4), 1, 2, 2, 3, 3, 'bilinear', true)
    expect(Array.from(out)).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4])

    const src = Float32Array.from({ length: 9 }, (_, i) => i * i)
    const big = resamplePlanes(src, 1, 3, 3, 5, 7, 'bilinear', true)
    expect([big[0], big[6], big[28], big[34]]).toEqual([src[0], src[2], src[6], src[8]])
  })

  it('bilinear without alignCorners maps pixel centres and clamps at the edges', () => {
    const out = resamplePlanes(Float32Array.of(0, 1), 1, 1, 2, 1, 4, 'bilinear', false)
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1])
  })

  it('bilinear to a single pixel samples the centre without alignCorners and the corner with it', () => {
    const src = Float32Array.of(1, 2, 3, 4, 5, 6)
    expect(Array.from(resamplePlanes(src, 1, 2, 3, 1, 1, 'bilinear', false))).toEqual([3.5])
    expect(Array.from(resamplePlanes(src, 1, 2, 3, 1, 1, 'bilinear', true))).toEqual([1])
  })

  it('bicubic does not clamp the source coordinate, so it overshoots at the edges', () => {
    // dst 0 sits at src -0.25: taps at -2,-1,0 (clamped to pixel 0) and 1, A = -0.75.
    const out = resamplePlanes(Float32Array.of(0, 1), 1, 1, 2, 1, 4, 'bicubic', false)
    expect(Array.from(out)).toEqual([-0.10546875, 0.2265625, 0.7734375, 1.10546875])
  })

  it('rejects inconsistent sizes', () => {
    expect(() => resamplePlanes(new Float32Array(5), 1, 2, 2, 4, 4, 'nearest', false)).toThrow(RangeError)
    expect(() => resamplePlanes(new Float32Array(4), 1, 2, 2, 0, 4, 'nearest', false)).toThrow(RangeError)
    expect(() => resamplePlanes(new Float32Array(4), 1, 2, 2, 4, 1.5, 'bilinear', false)).toThrow(RangeError)
  })

  it('zero planes give an empty result', () => {
    expect(resamplePlanes(new Float32Array(0), 0, 3, 3, 6, 6, 'bicubic', false).length).toBe(0)
  })
})

// ---------------------------------------------------------------------------------------------
// Golden outputs of ttach 0.0.3 / PyTorch 1.13 (float64): the fixture, or the file named by TTACH_GOLDEN
// ---------------------------------------------------------------------------------------------

// Always present (a missing TTACH_GOLDEN file fails the suite instead of skipping it).
const GOLDEN_URL = ttachGoldenFile()

/** float32 tolerance for the interpolating modes; the nearest modes must match exactly. */
const TOLERANCE = 2e-6

interface Tensor {
  readonly shape: readonly number[]
  readonly data: readonly number[]
}

interface GoldenResize {
  readonly name: string
  readonly mode: Interpolation
  readonly alignCorners: boolean
  readonly input: Tensor
  readonly outH: number
  readonly outW: number
  readonly expected: Tensor
}

type JsonObject = { readonly [key: string]: unknown }

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function numberArray(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw new Error(`golden: ${what} is not an array`)
  return v.map((x: unknown) => {
    if (typeof x === 'number') return x
    // Non-finite values are stored as strings.
    if (x === 'NaN') return Number.NaN
    if (x === 'Infinity') return Number.POSITIVE_INFINITY
    if (x === '-Infinity') return Number.NEGATIVE_INFINITY
    throw new Error(`golden: ${what} holds a non-number ${String(x)}`)
  })
}

function tensor(v: unknown, what: string): Tensor {
  if (!isObject(v)) throw new Error(`golden: ${what} is not a tensor`)
  return { shape: numberArray(v['shape'], `${what}.shape`), data: numberArray(v['data'], `${what}.data`) }
}

function dim(t: Tensor, i: number): number {
  const d = t.shape[i]
  if (d === undefined) throw new Error(`golden: tensor of rank ${t.shape.length} has no dim ${i}`)
  return d
}

function isInterpolation(v: unknown): v is Interpolation {
  return v === 'nearest' || v === 'nearest-exact' || v === 'bilinear' || v === 'bicubic' || v === 'area'
}

/**
 * Output size of the ttach call. Scale: `int(h * scale)` on the image, and scale 1/param on the
 * (already scaled) mask when deaugmenting. Resize: the param size forward, ctor.original_size back.
 */
function outputSize(transform: string, op: string, ctor: JsonObject, param: unknown, input: Tensor): [number, number] {
  if (transform === 'Scale') {
    if (typeof param !== 'number') throw new Error('golden: Scale param is not a number')
    const factor = op === 'augment_image' ? param : 1 / param
    return [Math.trunc(dim(input, 2) * factor), Math.trunc(dim(input, 3) * factor)]
  }
  const size = numberArray(op === 'augment_image' ? param : ctor['original_size'], 'Resize size')
  const [h, w] = size
  if (h === undefined || w === undefined) throw new Error('golden: Resize size needs [h, w]')
  return [h, w]
}

function loadGolden(): GoldenResize[] {
  const root: unknown = JSON.parse(fs.readFileSync(GOLDEN_URL, 'utf8'))
  if (!isObject(root) || !isObject(root['inputs']) || !Array.isArray(root['transform_cases'])) {
    throw new Error('golden: unexpected file layout')
  }
  const inputs = root['inputs']
  const cases: GoldenResize[] = []
  root['transform_cases'].forEach((c: unknown, index: number) => {
    if (!isObject(c) || !isObject(c['ctor'])) return
    const transform = c['transform']
    const op = c['op']
    if (transform !== 'Scale' && transform !== 'Resize') return
    if (op !== 'augment_image' && op !== 'deaugment_mask') return
    if (c['out'] === undefined) return // ttach raised for this call
    const ctor = c['ctor']
    const mode = ctor['interpolation'] ?? 'nearest'
    const alignCorners = ctor['align_corners'] === true
    // "linear" (needs 3-D input) and nearest + align_corners raise in PyTorch; any recorded output
    // for them is ttach's identity shortcut, which never calls interpolate.
    if (!isInterpolation(mode)) return
    if (alignCorners && (mode === 'nearest' || mode === 'nearest-exact')) return
    const inputName = c['input']
    if (typeof inputName !== 'string') return
    const input = tensor(inputs[inputName], `inputs.${inputName}`)
    const [outH, outW] = outputSize(transform, op, ctor, c['param'], input)
    cases.push({
      name: `#${index} ${transform}(${JSON.stringify(c['param'])}) ${op} ${mode}${alignCorners ? ' align_corners' : ''} ` +
        `${inputName} → ${outH}×${outW}`,
      mode,
      alignCorners,
      input,
      outH,
      outW,
      expected: tensor(c['out'], `case ${index}.out`),
    })
  })
  return cases
}

describe('resamplePlanes against ttach/PyTorch golden outputs', () => {
  const cases = loadGolden()
  const maxErrorByMode = new Map<Interpolation, number>()
  let exactCount = 0
  let checked = 0

  afterAll(() => {
    const perMode = [...maxErrorByMode].map(([m, e]) => `${m} ${e.toExponential(2)}`).join(', ')
    console.log(
      `resample golden: ${checked} of ${cases.length} cases checked, ${exactCount} bit-exact after float32 rounding; ` +
        `max |error| per mode: ${perMode}`,
    )
  })

  it('finds the resize cases', () => {
    expect(cases.length).toBeGreaterThan(0)
  })

  it.each(cases)('$name', (c) => {
    const [n, ch, inH, inW] = [dim(c.input, 0), dim(c.input, 1), dim(c.input, 2), dim(c.input, 3)]
    expect(c.expected.shape).toEqual([n, ch, c.outH, c.outW])

    const actual = resamplePlanes(Float32Array.from(c.input.data), n * ch, inH, inW, c.outH, c.outW, c.mode, c.alignCorners)
    const expected = c.expected.data.map(Math.fround)
    expect(actual.length).toBe(expected.length)

    let maxError = 0
    let exact = true
    actual.forEach((a, i) => {
      const e = c.expected.data[i] ?? Number.NaN
      if (!Object.is(a, Math.fround(e))) exact = false
      maxError = Math.max(maxError, Number.isFinite(e) ? Math.abs(a - e) : Object.is(a, e) ? 0 : Number.POSITIVE_INFINITY)
    })
    maxErrorByMode.set(c.mode, Math.max(maxErrorByMode.get(c.mode) ?? 0, maxError))
    if (exact) exactCount++
    checked++

    if (c.mode === 'nearest' || c.mode === 'nearest-exact') {
      expect(Array.from(actual)).toEqual(expected)
    } else {
      expect(maxError).toBeLessThanOrEqual(TOLERANCE)
    }
  })
})
