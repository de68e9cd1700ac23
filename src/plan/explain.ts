/**
 * The `explain` interpreter: a plan in words — views, chunks, kernels, model calls and memory.
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { lower } from '../../kernels/lower.js'
import type { FusionOptions } from '../boxes/fusion-options.js'
import { boxMaps } from '../transform/box-map.js'
import { describeStage } from '../transform/step.js'
import { showBytes } from './budget.js'
import type { Plan } from './plan.js'

/** A fusion in words: its method and the options given (defaults left out). */
const describeFusion = (fusion: FusionOptions): string => {
  const { method, ...rest } = fusion
  const given = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`)
  return given.length === 0 ? method : `${method} (${given.join(', ')})`
}

/**
 * A plan in words: its views, chunks, kernels, model calls and memory, one line each. Use it to see
 * why a run is slow or large before starting it (the CLI's `explain`).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, buildPlan, explain, views } from 'tta-lens'
 * const plan = buildPlan('segmentation', views(aliases.d4()), [1, 3, 512, 512], { merge: 'mean' })
 * assert.ok(E.isRight(plan) && explain(plan.right).startsWith('8 views · 1 chunk'))
 * @category interpreters
 */
export const explain = (plan: Plan): string => {
  const [n, c, h, w] = plan.image
  const lines: string[] = []
  const calls = plan.chunks.length
  // Detection maps boxes back on the CPU: its DeaugmentMerge steps run no kernel.
  const kernels = plan.steps.reduce((count, s) =>
    s.tag === 'Augment' || (s.tag === 'DeaugmentMerge' && plan.task !== 'detection') ? count + lower(s.stages, 1, s.tag === 'Augment' ? h : plan.chunks[s.chunk]?.viewHeight ?? h, s.tag === 'Augment' ? w : plan.chunks[s.chunk]?.viewWidth ?? w, 'store').length : count, 0)
  const combine = plan.boxes === undefined ? `merge ${plan.merge}`
    : `fusion ${describeFusion(plan.boxes.fusion)}${plan.boxes.minScore === undefined ? '' : ` · min score ${plan.boxes.minScore}`}${plan.boxes.cutBoxes === 'drop' ? ' · cut boxes dropped' : ''}`
  lines.push(`${plan.views.length} views · ${calls} chunk${calls === 1 ? '' : 's'} (${plan.chunks.map((ch) => ch.views.length).join(' + ')}) · ${plan.task} of [${n},${c},${h},${w}] · ${combine}`)
  for (const chunk of plan.chunks) {
    lines.push(`  chunk ${chunk.index}: model input [${chunk.input.join(',')}] ← ${chunk.views.length} view${chunk.views.length === 1 ? '' : 's'} of ${chunk.viewHeight}x${chunk.viewWidth}`)
    for (const v of chunk.views) {
      const view = plan.views[v]
      const augment = plan.steps.find((s) => s.tag === 'Augment' && s.view === v)
      const undo = plan.steps.find((s) => s.tag === 'DeaugmentMerge' && s.view === v)
      const show = (stages: readonly Parameters<typeof describeStage>[0][] | undefined): string =>
        stages === undefined || stages.length === 0 ? 'copy' : stages.map(describeStage).join('; ')
      const window = plan.task === 'detection' && view !== undefined ? boxMaps(view.steps, h, w) : undefined
      const boxesBack = window === undefined ? ''
        : E.isLeft(window) ? ` | boxes back: ${window.left.message}`
          : ` | boxes back from ${window.right.view.join('x')}, seen ${window.right.window === undefined ? 'nothing' : `[${window.right.window.join(',')}]`}`
      lines.push(`    ${view?.name ?? v} [${view?.kind ?? '?'}]: in: ${show(augment?.tag === 'Augment' ? augment.stages : undefined)}` +
        (plan.task === 'segmentation' ? ` | back+merge: ${show(undo?.tag === 'DeaugmentMerge' ? undo.stages : undefined)}` : '') + boxesBack)
    }
  }
  const m = plan.memory
  lines.push(`model: ${calls} call${calls === 1 ? '' : 's'} · kernels: ${kernels} (augment fused into the batch buffer; ${plan.task === 'detection' ? 'boxes mapped back and fused per image' : 'deaugment fused with the merge'})`)
  lines.push(`memory: image ${showBytes(m.image)} + chunk in ${showBytes(m.chunkInput)} + chunk out ≈ ${showBytes(m.chunkOutput)} + merge ${showBytes(m.accumulator)} = peak ≈ ${showBytes(m.peak)}` +
    (m.budget === undefined ? '' : ` (budget ${showBytes(m.budget)})`))
  return lines.join('\n')
}
