/**
 * Shared steps of an inference plan: a parameter-free step that repeats an earlier one on the same
 * input (same op, same settings, the input unchanged in between) is dropped, and its readers read
 * the earlier step's output. The runner (execute.ts) runs the shortened list; the plan itself (what
 * `cpnas export` writes) keeps every step, one per operation of the genotype.
 *
 * Why: a cell's edges that apply the same pooling to the same input are separate operations of the
 * genotype but one computation. DARTS-V2's reduction cell applies max_pool_3x3 to input 0 twice and
 * to input 1 three times, so its Child plan pools 10 times where 4 give the same values; the Bi-Real
 * shortcut's channel means repeat in the same way. PyTorch's DARTS code (and the float-simulated
 * Child here) computes every edge; the values are the same bits either way, since each step is a
 * pure function of its input buffer.
 *
 * Only whole-buffer outputs are shared: the candidate's output and the earlier output must each have
 * that step as their only writer, and nothing may write the input between the two steps.
 */
import type { InferencePlan, PlanStep } from './plan.js';

/** The steps that may be shared: a pure function of one input, writing their whole output. */
type Shareable = Extract<PlanStep, { op: 'maxpool' | 'avgpool' | 'groupmean' | 'shift' | 'relu' }>;

function shareable(s: PlanStep): s is Shareable {
  return s.op === 'maxpool' || s.op === 'avgpool' || s.op === 'groupmean' || s.op === 'shift' || s.op === 'relu';
}

/** What makes two shareable steps the same computation (the input included). */
function key(s: Shareable): string {
  switch (s.op) {
    case 'maxpool': case 'avgpool': return `${s.op} ${s.x} ${s.kernel} ${s.stride} ${s.padding}`;
    case 'groupmean': return `${s.op} ${s.x} ${s.groups}`;
    default: return `${s.op} ${s.x}`;
  }
}

/** The buffers a step reads. */
export function stepReads(s: PlanStep): number[] {
  switch (s.op) {
    case 'bconv': return s.res >= 0 ? [s.x, s.res] : [s.x];
    case 'add': return [s.a, s.b];
    case 'zero': return [];
    default: return [s.x];
  }
}

/** The step with its read buffers renamed through `to` (a step that reads none of them is returned as is). */
function renameReads(s: PlanStep, to: Map<number, number>): PlanStep {
  const r = (b: number): number => to.get(b) ?? b;
  switch (s.op) {
    case 'bconv': return { ...s, x: r(s.x), res: s.res >= 0 ? r(s.res) : s.res };
    case 'add': return { ...s, a: r(s.a), b: r(s.b) };
    case 'zero': return s;
    default: return { ...s, x: r(s.x) };
  }
}

/**
 * The plan's steps with repeated computations dropped (see the header), and how many were dropped.
 * Buffers that only dropped steps wrote are left in `buffers`, unused.
 */
export function shareSteps(plan: Pick<InferencePlan, 'steps' | 'output'>): { steps: PlanStep[]; dropped: number } {
  const writers = new Map<number, number>();
  for (const s of plan.steps) writers.set(s.y, (writers.get(s.y) ?? 0) + 1);
  const soleWriter = (b: number): boolean => writers.get(b) === 1 && b !== plan.output;
  // key -> output buffer of the first step computing it; dropped when its input is written again
  const seen = new Map<string, number>();
  const byInput = new Map<number, string[]>();
  const rename = new Map<number, number>();
  const steps: PlanStep[] = [];
  for (const original of plan.steps) {
    const s = renameReads(original, rename);
    if (shareable(s) && soleWriter(s.y)) {
      const k = key(s), first = seen.get(k);
      if (first !== undefined) {
        rename.set(s.y, first);
        continue;
      }
      seen.set(k, s.y);
      byInput.set(s.x, [...(byInput.get(s.x) ?? []), k]);
    }
    // a step that writes a buffer invalidates what was computed from it
    for (const k of byInput.get(s.y) ?? []) seen.delete(k);
    byInput.delete(s.y);
    steps.push(s);
  }
  return { steps, dropped: plan.steps.length - steps.length };
}
