// What "a typed error, never a throw" means for one case, shared by the in-process test and the
// child process that measures peak memory: the result is an fp-ts Left whose error has the
// expected tag, message and fields. Plain JavaScript, like the cases.
import { createGzip } from 'node:zlib'

const same = (a, b) => Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && a === b)

/** Why `result` does not meet `expected`, or undefined when it does. */
export const problemWith = (result, expected, ctx) => {
  if (typeof result !== 'object' || result === null || (result._tag !== 'Left' && result._tag !== 'Right')) {
    return `expected an Either, got ${String(result)}`
  }
  if (result._tag === 'Right') return `expected a Left ${expected.tag}, got a Right`
  const error = result.left
  if (typeof error !== 'object' || error === null) return `the Left holds ${String(error)}`
  if (expected.tag !== 'Left' && error._tag !== expected.tag) return `expected ${expected.tag}, got ${error._tag}: ${error.message}`
  if (expected.message !== undefined) {
    const want = typeof expected.message === 'function' ? expected.message(ctx) : expected.message
    const ok = want instanceof RegExp ? typeof error.message === 'string' && want.test(error.message) : error.message === want
    if (!ok) return `message\n  got:  ${error.message}\n  want: ${String(want)}`
  }
  for (const [key, value] of Object.entries(expected.fields ?? {})) {
    if (!same(error[key], value)) return `field ${key}: got ${String(error[key])}, want ${String(value)}`
  }
  return undefined
}

/** Gzipped zeros that unpack to 300 MiB, made in pieces so that making them stays small. */
export const gzipBomb = () => new Promise((resolve, reject) => {
  const gzip = createGzip({ level: 1 })
  const parts = []
  gzip.on('data', (b) => parts.push(b))
  gzip.on('end', () => resolve(new Uint8Array(Buffer.concat(parts))))
  gzip.on('error', reject)
  const zeros = Buffer.alloc(1 << 20)
  let left = 300
  const pump = () => {
    while (left > 0) {
      left--
      if (!gzip.write(zeros)) { gzip.once('drain', pump); return }
    }
    gzip.end()
  }
  pump()
})
