/**
 * WebGPU for gpu.js in Node: Dawn (the `webgpu` package, a dependency of gpu.js) installed at
 * `navigator.gpu`, where gpu.js looks for it. Node's part of the gpujs backend: `tta-lens/node`
 * registers it with the core's backend when it loads.
 *
 * @since 0.3.0
 */
import { provideWebGpuWith } from './gpujs.js'

const describeError = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''

/** Installs Dawn's WebGPU at `navigator.gpu`; returns why it could not, or undefined. */
const provideDawn = async (): Promise<string | undefined> => {
  const existing: unknown = Reflect.get(globalThis, 'navigator')
  try {
    const dawn: unknown = await import('webgpu')
    const create: unknown = typeof dawn === 'object' && dawn !== null && 'create' in dawn ? dawn.create : undefined
    const globals: unknown = typeof dawn === 'object' && dawn !== null && 'globals' in dawn ? dawn.globals : undefined
    if (typeof create !== 'function' || typeof globals !== 'object' || globals === null) return 'the webgpu package has no create()'
    Object.assign(globalThis, globals)
    const gpu: unknown = Reflect.apply(create, undefined, [[]])
    if (existing === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true })
    else Object.defineProperty(existing, 'gpu', { value: gpu, configurable: true })
    return undefined
  } catch (e) {
    return `Dawn (the webgpu package) did not load: ${describeError(e)}`
  }
}

/** Lets the gpujs backend try Dawn in Node. Idempotent. @internal */
export const useDawn = (): void => provideWebGpuWith(provideDawn)
