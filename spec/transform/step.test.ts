import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aliases, orThrow, product, resolveAugment, resolveUndoMask, transforms as T, views } from '../../src/index.js'
import { runStage, runStages, type Planes } from '../../src/backend/reference/execute.js'

const planes = (h: number, w: number) => ({ data: Float32Array.from({ length: 2 * h * w }, (_, k) => k), planes: 2, height: h, width: w })

describe('fusion of a view chain into one gather', () => {
  it('resolves every d4 view to a single gather (or nothing for the identity)', () => {
    for (const view of views(aliases.d4())) {
      const stages = orThrow(resolveAugment(view.steps, 3, 5))
      expect(stages.length).toBe(view.name === 'identity' ? 0 : 1)
      expect(stages.every((s) => s.kind === 'gather')).toBe(true)
    }
  })

  it('fuses flip · turn · crop into one gather that equals running the steps one by one', () => {
    const p = product(T.hflip(), orThrow(T.rotate90([90])), orThrow(T.fiveCrops(2, 3)))
    for (const view of views(p)) {
      const fused = orThrow(resolveAugment(view.steps, 4, 5))
      expect(fused.filter((s) => s.kind === 'gather').length).toBeLessThanOrEqual(1)
      const oneByOne = view.steps.reduce<Planes>((acc, step) => {
        const stages = orThrow(resolveAugment([step], acc.height, acc.width))
        return runStages(acc, stages)
      }, planes(4, 5))
      expect(Array.from(runStages(planes(4, 5), fused).data)).toEqual(Array.from(oneByOne.data))
    }
  })

  it('collects Add and Multiply into one pointwise stage after the gathers, in the order given', () => {
    const p = product(orThrow(T.multiply([2])), T.vflip(), orThrow(T.add([-0.5])))
    const last = views(p)[views(p).length - 1]
    expect(last?.name).toBe('Multiply(2) · VerticalFlip(true) · Add(-0.5)')
    const stages = orThrow(resolveAugment(last?.steps ?? [], 2, 2))
    expect(stages.map((s) => s.kind)).toEqual(['gather', 'pointwise'])
    expect(stages[1]).toEqual({ kind: 'pointwise', scale: 2, shift: -0.5 })
  })

  it('undoes a mask through the inverse chain, restoring the exact input size after a fractional scale', () => {
    const scale = views(product(orThrow(T.scale([0.75]))))[1]
    const undo = orThrow(resolveUndoMask(scale?.steps ?? [], 6, 10))
    expect(undo).toEqual([{ kind: 'resample', outHeight: 6, outWidth: 10, mode: 'nearest', alignCorners: false }])
    const out = runStage(planes(4, 7), undo[0] ?? { kind: 'pointwise', scale: 1, shift: 0 })
    expect([out.height, out.width]).toEqual([6, 10])
  })

  it('reports a crop larger than the image and a scale that empties it as shape errors', () => {
    const crop = views(product(orThrow(T.fiveCrops(5, 5))))[0]
    const tooBig = resolveAugment(crop?.steps ?? [], 4, 8)
    expect(E.isLeft(tooBig) && tooBig.left.message).toBe('FiveCrops of 5x5 does not fit inside a 4x8 image')
    const tiny = views(product(orThrow(T.scale([0.1]))))[1]
    const empty = resolveAugment(tiny?.steps ?? [], 4, 8)
    expect(E.isLeft(empty) && empty.left.message).toMatch(/gives an empty 0x0 image/)
  })
})

describe('transform parameters are validated at construction', () => {
  const angle: number = 45
  const zero: number = 0
  // A list known only at run time (a literal `[]` does not compile).
  const none: number[] = []
  it.each([
    ['Rotate90 by 45', T.rotate90([angle]), /multiples of 90°, and 45° is not one/],
    ['Scale by 0', T.scale([zero]), /finite and > 0/],
    ['Scale by NaN', T.scale([Number.NaN]), /finite and > 0/],
    // Options read from a JSON file arrive untyped.
    ['linear interpolation', T.scale([2], JSON.parse('{"interpolation":"linear"}')), /unknown interpolation 'linear'.*use 'bilinear'/],
    ['alignCorners with nearest', T.scale([2], { alignCorners: true }), /alignCorners applies only to 'bilinear' and 'bicubic'/],
    ['FiveCrops of 0', T.fiveCrops(zero, 3), /positive integer sizes/],
    ['Resize to a fractional size', T.resize([[2.5, 3]]), /positive integers/],
    ['Add of Infinity', T.add([Number.POSITIVE_INFINITY]), /finite/],
    ['empty angle list', T.rotate90(none), /at least one angle/],
    ['empty scale list', T.scale(none), /at least one factor/],
    ['empty shift list', T.translate(none.map((v) => [v, v] as const)), /at least one shift/],
    ['a grid of 0 tiles', T.tiles(4, 4, { rows: zero, cols: 2 }), /positive integers/],
    ['tiles of 0 pixels', T.tiles(zero, 4, { rows: 1, cols: 2 }), /positive integer sizes/],
  ])('%s is a ParamError', (_, result, message) => {
    expect(E.isLeft(result)).toBe(true)
    if (E.isLeft(result)) {
      expect(result.left._tag).toBe('ParamError')
      expect(result.left.message).toMatch(message)
    }
  })
})
