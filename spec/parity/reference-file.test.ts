/**
 * The parity suites read another reference file when TTACH_GOLDEN / BOXES_GOLDEN names one. Checked
 * here in-process (the suites call the same functions with no arguments at load time), on small
 * temporary files, so that it costs milliseconds rather than a second vitest run.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { boxesFixture, boxesGoldenFile, loadBoxesGolden } from '../boxes/golden.js'
import { judge } from '../boxes/run.js'
import { goldenPath, loadGolden, ttachGoldenFile } from './golden.js'
import { referenceFile } from './reference-file.js'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tta-lens-golden-'))
const saved = { TTACH_GOLDEN: process.env['TTACH_GOLDEN'], BOXES_GOLDEN: process.env['BOXES_GOLDEN'] }
const restore = (name: 'TTACH_GOLDEN' | 'BOXES_GOLDEN'): void => {
  const value = saved[name]
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}
afterEach(() => { restore('TTACH_GOLDEN'); restore('BOXES_GOLDEN') })
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('referenceFile', () => {
  const fallback = new URL('file:///fixture.json')
  it('uses the fallback when the variable is unset or blank', () => {
    expect(referenceFile('BOXES_GOLDEN', fallback, {})).toBe(fallback)
    expect(referenceFile('BOXES_GOLDEN', fallback, { BOXES_GOLDEN: '  ' })).toBe(fallback)
    expect(referenceFile('TTACH_GOLDEN', fallback, { BOXES_GOLDEN: '/x.json' })).toBe(fallback)
  })
  it('uses the named file, a relative path taken from the working directory', () => {
    expect(referenceFile('TTACH_GOLDEN', fallback, { TTACH_GOLDEN: '/data/more.json' })).toBe('/data/more.json')
    expect(referenceFile('BOXES_GOLDEN', fallback, { BOXES_GOLDEN: 'more.json' }, '/work/here')).toBe('/work/here/more.json')
  })
  it('defaults to the fixtures', () => {
    expect(ttachGoldenFile({})).toBe(goldenPath)
    expect(boxesGoldenFile({})).toBe(boxesFixture)
  })
})

describe('TTACH_GOLDEN', () => {
  it('makes loadGolden() read that file (a file of another shape fails loudly, naming it)', () => {
    const file = path.join(dir, 'ttach_other.json')
    fs.writeFileSync(file, JSON.stringify({ meta: {}, cases: [] }))
    process.env['TTACH_GOLDEN'] = file
    expect(ttachGoldenFile()).toBe(file)
    expect(() => loadGolden()).toThrow(new RegExp(`ttach golden file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not decode`))
  })
  it('a missing file fails instead of falling back', () => {
    process.env['TTACH_GOLDEN'] = path.join(dir, 'missing.json')
    expect(() => loadGolden()).toThrow(/ENOENT/)
  })
})

describe('BOXES_GOLDEN', () => {
  const publicCases = loadBoxesGolden(boxesFixture).cases
  const pick = (id: string) => {
    const c = publicCases.find((k) => k.id === id)
    if (c === undefined) throw new Error(`no public case ${id}`)
    return c
  }
  const chosen = [pick('wbf-1-0'), ...publicCases.filter((c) => c.function === 'nmw').slice(0, 1), ...publicCases.filter((c) => c.function === 'nms').slice(0, 1)]

  it('makes loadBoxesGolden() read that file, whose cases the runner then judges', () => {
    const file = path.join(dir, 'boxes_three.json')
    fs.writeFileSync(file, JSON.stringify({ meta: { note: 'three public cases' }, cases: chosen }))
    process.env['BOXES_GOLDEN'] = file
    expect(boxesGoldenFile()).toBe(file)
    const loaded = loadBoxesGolden()
    expect(loaded.cases.map((c) => c.id)).toEqual(chosen.map((c) => c.id))
    for (const c of loaded.cases) expect(['exact', 'close']).toContain(judge(c).kind)
  })

  it('a wrong reference answer is a mismatch, so the suite can fail', () => {
    const [first] = chosen
    const out = first?.out
    if (first === undefined || out === undefined) throw new Error('wbf-1-0 has an output')
    const tampered = { ...first, out: { ...out, boxes: out.boxes.map((b, i) => (i === 0 ? b.map((v) => v + 0.01) : b)) } }
    expect(judge(tampered)).toMatchObject({ kind: 'mismatch' })
    const dropped = { ...first, out: { boxes: out.boxes.slice(1), scores: out.scores.slice(1), labels: out.labels.slice(1) } }
    expect(judge(dropped)).toMatchObject({ kind: 'mismatch' })
  })

  it('a file of another shape fails loudly', () => {
    const file = path.join(dir, 'boxes_bad.json')
    fs.writeFileSync(file, JSON.stringify({ cases: [{ ...chosen[0], extra: 1 }] }))
    process.env['BOXES_GOLDEN'] = file
    expect(() => loadBoxesGolden()).toThrow(/does not decode[\s\S]*unexpected key\(s\) extra/)
  })
})
