/**
 * Shared steps of the inference runner (binary/runtime/shared-steps.ts): a repeated parameter-free
 * computation on an unchanged input runs once, and the logits are the same bits as running every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../core/index.js';
import { PlanRunner, runnerSettings } from '../../binary/runtime/execute.js';
import { shareSteps } from '../../binary/runtime/shared-steps.js';
import type { PlanStep } from '../../binary/runtime/plan.js';
import { compileChild } from '../../nas/compile.js';
import { namedGenotype } from '../../nas/named-genotypes.js';
import { randomChild } from './random-child.js';

const pool = (x: number, y: number, op: 'maxpool' | 'avgpool' = 'maxpool', stride = 2): PlanStep => ({ op, x, y, kernel: 3, stride, padding: 1 });

/** Logits of the plan with and without sharing. */
function both(plan: ReturnType<typeof compileChild>, x: Float32Array, N: number): [Float32Array, Float32Array, number] {
  const shared = new PlanRunner(plan);
  runnerSettings.shareSteps = false;
  try {
    const every = new PlanRunner(plan);
    return [shared.run(x, N), every.run(x, N), plan.steps.length - shared.steps.length];
  } finally {
    runnerSettings.shareSteps = true;
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((v, i) => v === ub[i]);
}

describe('shared steps of an inference plan', () => {
  it('drops a repeat of the same pooling of the same input, and renames its readers', () => {
    const steps: PlanStep[] = [pool(0, 1), pool(0, 2), pool(0, 3, 'avgpool'), pool(0, 4, 'maxpool', 1), { op: 'add', a: 1, b: 2, y: 5, yC0: 0 }, { op: 'add', a: 3, b: 4, y: 6, yC0: 0 }];
    const { steps: out, dropped } = shareSteps({ steps, output: 6 });
    expect(dropped).toBe(1);
    expect(out[1]).toEqual(pool(0, 3, 'avgpool'));
    expect(out.find((s) => s.op === 'add' && s.y === 5)).toEqual({ op: 'add', a: 1, b: 1, y: 5, yC0: 0 });
    // a chain of repeats: the second pooling of a dropped step's output is a repeat too
    const chain = shareSteps({ steps: [pool(0, 1), pool(0, 2), pool(1, 3), pool(2, 4), { op: 'add', a: 3, b: 4, y: 5, yC0: 0 }], output: 5 });
    expect(chain.dropped).toBe(2);
    expect(chain.steps.at(-1)).toEqual({ op: 'add', a: 3, b: 3, y: 5, yC0: 0 });
  });

  it('keeps a step whose input was written in between, whose output has another writer, or that is the output', () => {
    const rewritten: PlanStep[] = [pool(0, 1), { op: 'copy', x: 1, y: 0, yC0: 0 }, pool(0, 2), { op: 'add', a: 1, b: 2, y: 3, yC0: 0 }];
    expect(shareSteps({ steps: rewritten, output: 3 }).dropped).toBe(0);
    const twoWriters: PlanStep[] = [pool(0, 1), pool(0, 2), { op: 'copy', x: 0, y: 2, yC0: 0 }, { op: 'add', a: 1, b: 2, y: 3, yC0: 0 }];
    expect(shareSteps({ steps: twoWriters, output: 3 }).dropped).toBe(0);
    const firstHasTwo: PlanStep[] = [pool(0, 1), { op: 'copy', x: 0, y: 1, yC0: 0 }, pool(0, 2)];
    expect(shareSteps({ steps: firstHasTwo, output: 2 }).dropped).toBe(0);
    expect(shareSteps({ steps: [pool(0, 1), pool(0, 2)], output: 2 }).dropped).toBe(0);
    // groups and settings are part of the computation
    const groups: PlanStep[] = [{ op: 'groupmean', x: 0, y: 1, groups: 2 }, { op: 'groupmean', x: 0, y: 2, groups: 4 }, { op: 'groupmean', x: 0, y: 3, groups: 2 }];
    expect(shareSteps({ steps: [...groups, { op: 'add', a: 1, b: 3, y: 4, yC0: 0 }], output: 4 }).dropped).toBe(1);
  });

  it("pools DARTS-V2's reduction cell 4 times instead of 10, with the same logits", () => {
    const genotype = namedGenotype('darts_v2');
    const net = randomChild(7, { cells: 3, channels: 4, inputChannels: 3, nodes: 4, genotype });
    const plan = compileChild(net, [3, 8, 8]);
    const runner = new PlanRunner(plan);
    const count = (steps: readonly PlanStep[]) => steps.filter((s) => s.op === 'maxpool').length;
    expect(count(plan.steps)).toBe(10);
    expect(count(runner.steps)).toBe(4);
    const rng = new Random(3);
    const x = Float32Array.from({ length: 2 * 3 * 8 * 8 }, () => rng.normal());
    const [shared, every] = both(plan, x, 2);
    expect(sameBits(shared, every)).toBe(true);
  });

  it('gives the same logits, bit for bit, as running every step, on random Child networks', () => {
    let droppedAny = 0;
    fc.assert(fc.property(
      fc.constantFrom('bireal', 'paper' as const), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 5, max: 9 }), fc.integer({ min: 1, max: 3 }),
      (childBlock, seed, size, N) => {
        const net = randomChild(seed, { cells: 3, channels: 4, inputChannels: 3, nodes: 3, childBlock: childBlock as 'bireal' | 'paper' });
        const rng = new Random(seed + 1);
        const x = Float32Array.from({ length: N * 3 * size * size }, () => rng.normal());
        const [shared, every, dropped] = both(compileChild(net, [3, size, size]), x, N);
        droppedAny += dropped;
        expect(sameBits(shared, every)).toBe(true);
      }), { numRuns: 20, seed: 41 });
    expect(droppedAny).toBeGreaterThan(0);
  });
});
