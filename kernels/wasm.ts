/**
 * A tiny WebAssembly encoder: the few instructions the kernel renderers emit, as data, and the
 * binary module format (magic, type/import/function/export/code sections, LEB128 numbers) they are
 * written in. No text format, no parser, no toolchain: a kernel module is built from the library's
 * own instruction templates and numbers that {@link u32} / {@link i32} check before they are encoded.
 *
 * Every module imports one memory (`kernel.memory`) and exports its functions by fixed names. The
 * listing ({@link listing}) is a readable, WAT-like rendering of the same data for snapshot tests.
 *
 * @since 0.3.0
 */

/** The instructions the renderers use (WebAssembly 2.0 core + fixed-width SIMD). */
export type Instr =
  | readonly ['local.get' | 'local.set' | 'local.tee', number]
  | readonly ['i32.const', number]
  /** A float64 constant: only 0 is emitted (a sum's start), but any finite value encodes. */
  | readonly ['f64.const', number]
  | readonly ['i32.add' | 'i32.sub' | 'i32.mul' | 'i32.and' | 'i32.eqz' | 'i32.eq' | 'i32.ne' | 'i32.lt_u' | 'i32.gt_u']
  | readonly ['f64.add' | 'f64.mul' | 'f64.promote_f32' | 'f32.demote_f64']
  | readonly ['f64x2.splat' | 'f64x2.add' | 'f64x2.mul' | 'f32x4.demote_f64x2_zero']
  | readonly ['block' | 'loop' | 'end']
  | readonly ['br' | 'br_if', number]
  /** Loads and stores: the constant byte offset added to the address on the stack. */
  | readonly ['i32.load' | 'i32.store' | 'f32.load' | 'f32.store' | 'f64.load' | 'f64.store' | 'v128.load' | 'v128.store', number]
  /** Picks 16 bytes out of the 32 of two vectors: lane k of the result is byte `lanes[k]` (0–15 first, 16–31 second). */
  | readonly ['i8x16.shuffle', readonly number[]]

/** A local's type: 32-bit integers (addresses, counters), float64 (weights, sums) and 128-bit vectors. */
export type ValueType = 'i32' | 'f64' | 'v128'

/** One exported function: `params` i32 parameters, then its locals, then the body (without the final `end`). */
export interface WasmFunction {
  readonly name: string
  readonly params: number
  readonly locals: readonly ValueType[]
  readonly body: readonly Instr[]
}

/** A module: its functions, all sharing the imported memory `kernel.memory`. */
export interface WasmModule {
  readonly functions: readonly WasmFunction[]
}

/** Where every kernel module imports its memory from. */
export const memoryImport = { module: 'kernel', name: 'memory' } as const

/** A checked unsigned 32-bit integer (an index, a count, an offset). */
export const u32 = (n: number): number => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`wasm encoder: ${n} is not an unsigned 32-bit integer`)
  return n
}

/** A checked signed 32-bit integer (an `i32.const`). */
export const i32 = (n: number): number => {
  if (!Number.isInteger(n) || n < -0x8000_0000 || n > 0x7fff_ffff) throw new RangeError(`wasm encoder: ${n} is not a signed 32-bit integer`)
  return n
}

/** Unsigned LEB128. */
export const uleb = (n: number): number[] => {
  let v = u32(n)
  const out: number[] = []
  do {
    const byte = v & 0x7f
    v = Math.floor(v / 128)
    out.push(v === 0 ? byte : byte | 0x80)
  } while (v !== 0)
  return out
}

/** Signed LEB128. */
export const sleb = (n: number): number[] => {
  let v = i32(n)
  const out: number[] = []
  for (;;) {
    const byte = v & 0x7f
    v >>= 7
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)
    out.push(done ? byte : byte | 0x80)
    if (done) return out
  }
}

/** A name: its UTF-8 bytes, length first. Only the library's own fixed ASCII names are used. */
const name = (text: string): number[] => {
  if (!/^[a-z][a-z0-9_]*$/.test(text)) throw new RangeError(`wasm encoder: ${JSON.stringify(text)} is not a plain name`)
  return [...uleb(text.length), ...Array.from(text, (c) => c.charCodeAt(0))]
}

const vector = (items: readonly (readonly number[])[]): number[] => [...uleb(items.length), ...items.flat()]
const section = (id: number, content: readonly number[]): number[] => [id, ...uleb(content.length), ...content]

const valueTypeCode: Readonly<Record<ValueType, number>> = { i32: 0x7f, f64: 0x7c, v128: 0x7b }

const plainOps = {
  'i32.add': [0x6a], 'i32.sub': [0x6b], 'i32.mul': [0x6c], 'i32.and': [0x71], 'i32.eqz': [0x45], 'i32.eq': [0x46], 'i32.ne': [0x47], 'i32.lt_u': [0x49], 'i32.gt_u': [0x4b],
  'f64.add': [0xa0], 'f64.mul': [0xa2], 'f64.promote_f32': [0xbb], 'f32.demote_f64': [0xb6],
  // SIMD opcodes after the 0xfd prefix are unsigned LEB128: 0xf0 and 0xf2 take two bytes.
  'f64x2.splat': [0xfd, 0x14], 'f64x2.add': [0xfd, 0xf0, 0x01], 'f64x2.mul': [0xfd, 0xf2, 0x01], 'f32x4.demote_f64x2_zero': [0xfd, 0x5e],
  block: [0x02, 0x40], loop: [0x03, 0x40], end: [0x0b],
} as const

/** Natural alignment (log2 bytes) and opcode of each memory access; all may be unaligned at run time. */
const memoryOps = {
  'i32.load': { align: 2, code: [0x28] }, 'i32.store': { align: 2, code: [0x36] },
  'f32.load': { align: 2, code: [0x2a] }, 'f32.store': { align: 2, code: [0x38] },
  'f64.load': { align: 3, code: [0x2b] }, 'f64.store': { align: 3, code: [0x39] },
  // A v128 access hints 4-byte alignment: the planes are float32 and rows start anywhere.
  'v128.load': { align: 2, code: [0xfd, 0x00] }, 'v128.store': { align: 2, code: [0xfd, 0x0b] },
} as const

/** The bytes of one instruction. */
export const encodeInstr = (instr: Instr): number[] => {
  switch (instr[0]) {
    case 'local.get': return [0x20, ...uleb(instr[1])]
    case 'local.set': return [0x21, ...uleb(instr[1])]
    case 'local.tee': return [0x22, ...uleb(instr[1])]
    case 'i32.const': return [0x41, ...sleb(instr[1])]
    case 'br': return [0x0c, ...uleb(instr[1])]
    case 'br_if': return [0x0d, ...uleb(instr[1])]
    case 'f64.const': {
      if (!Number.isFinite(instr[1])) throw new RangeError(`wasm encoder: ${instr[1]} is not a finite float64`)
      return [0x44, ...new Uint8Array(Float64Array.of(instr[1]).buffer)]
    }
    case 'i32.load': case 'i32.store': case 'f32.load': case 'f32.store': case 'f64.load': case 'f64.store': case 'v128.load': case 'v128.store': {
      const op = memoryOps[instr[0]]
      return [...op.code, ...uleb(op.align), ...uleb(instr[1])]
    }
    case 'i8x16.shuffle': {
      const lanes = instr[1]
      if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) throw new RangeError(`wasm encoder: shuffle lanes ${lanes.join(',')} are not 16 byte indices below 32`)
      return [0xfd, 0x0d, ...lanes]
    }
    default: return [...plainOps[instr[0]]]
  }
}

/** Checks that blocks and loops nest and that every branch targets an enclosing one. */
const checkStructure = (f: WasmFunction): void => {
  let depth = 0
  for (const instr of f.body) {
    if (instr[0] === 'block' || instr[0] === 'loop') depth++
    else if (instr[0] === 'end') depth--
    else if ((instr[0] === 'br' || instr[0] === 'br_if') && instr[1] >= depth) throw new RangeError(`wasm encoder: ${f.name} branches ${instr[1]} levels out of ${depth}`)
    else if (instr[0] === 'local.get' || instr[0] === 'local.set' || instr[0] === 'local.tee') {
      if (instr[1] >= f.params + f.locals.length) throw new RangeError(`wasm encoder: ${f.name} has no local ${instr[1]}`)
    }
    if (depth < 0) throw new RangeError(`wasm encoder: ${f.name} ends a block it never opened`)
  }
  if (depth !== 0) throw new RangeError(`wasm encoder: ${f.name} leaves ${depth} blocks open`)
}

/** Locals grouped into runs of one type, as the code section stores them. */
const localRuns = (locals: readonly ValueType[]): number[][] => {
  const runs: { type: ValueType; count: number }[] = []
  for (const t of locals) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last.type === t) last.count++
    else runs.push({ type: t, count: 1 })
  }
  return runs.map((r) => [...uleb(r.count), valueTypeCode[r.type]])
}

/** The binary module: every function takes its i32 parameters and returns nothing. */
export const encodeModule = (m: WasmModule): Uint8Array => {
  for (const f of m.functions) checkStructure(f)
  const types = m.functions.map((f) => [0x60, ...vector(Array.from({ length: f.params }, () => [valueTypeCode.i32])), 0x00])
  const imports = [[...name(memoryImport.module), ...name(memoryImport.name), 0x02, 0x00, ...uleb(0)]]
  const functions = m.functions.map((_, k) => uleb(k))
  const exports = m.functions.map((f, k) => [...name(f.name), 0x00, ...uleb(k)])
  const bodies = m.functions.map((f) => {
    const body = [...vector(localRuns(f.locals)), ...f.body.flatMap(encodeInstr), 0x0b]
    return [...uleb(body.length), ...body]
  })
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector(types)),
    ...section(2, vector(imports)),
    ...section(3, vector(functions)),
    ...section(7, vector(exports)),
    ...section(10, vector(bodies)),
  ])
}

/** A readable listing of a module (WAT-like, indented by block depth), for snapshots and `explain`. */
export const listing = (m: WasmModule): string =>
  m.functions.map((f) => {
    const lines = [`(func $${f.name} (param${' i32'.repeat(f.params)})${f.locals.length > 0 ? ` (local ${f.locals.join(' ')})` : ''}`]
    let depth = 1
    for (const instr of f.body) {
      if (instr[0] === 'end') depth--
      const text = instr[0] === 'i8x16.shuffle' ? `i8x16.shuffle ${instr[1].join(' ')}`
        : instr[0].endsWith('load') || instr[0].endsWith('store') ? `${instr[0]} offset=${instr[1] ?? 0}`
          : instr.join(' ')
      lines.push(`${'  '.repeat(depth)}${text}`)
      if (instr[0] === 'block' || instr[0] === 'loop') depth++
    }
    return `${lines.join('\n')}\n)`
  }).join('\n')
