/**
 * Batch-norm statistics of x viewed as [N, C, HW], two-pass like the CPU kernel (the variance sums
 * squared deviations from the mean, so it does not cancel): four kernels, per-(n, c) partial sums, the
 * mean per channel, per-(n, c) squared deviations, the variance per channel. Only the C means and C
 * variances are read back.
 */
import type { GpuRuntime } from '../runtime.js';
import { THREAD, divmod, flt, kernelSource, key } from '../codegen.js';

export function batchNormStats(
  rt: GpuRuntime, x: Float32Array, N: number, C: number, HW: number, mean: Float32Array, variance: Float32Array,
): void {
  const inv = flt(1 / (N * HW));
  const rowSums = () => kernelSource(['x'], `${THREAD}let s = 0.0;
  for (let i = 0; i < ${HW}; i++) {
    s += x[o * ${HW} + i];
  }
  return s;`);
  const perChannel = () => kernelSource(['part'], `${THREAD}let s = 0.0;
  for (let n = 0; n < ${N}; n++) {
    s += part[n * ${C} + o];
  }
  return s * ${inv};`);
  const squares = () => kernelSource(['x', 'mean'], `${THREAD}${divmod('n', 'c', 'o', C)}
  const m = mean[c];
  let s = 0.0;
  for (let i = 0; i < ${HW}; i++) {
    const d = x[o * ${HW} + i] - m;
    s += d * d;
  }
  return s;`);
  rt.op(() => {
    const xd = rt.upload(x);
    // the mean and the variance share one kernel: both average [N, C] partial sums over n
    const m = rt.run(key('bnChannelMean', N, C, HW), C, perChannel, [rt.run(key('bnRowSums', N, C, HW), N * C, rowSums, [xd])]);
    const sq = rt.run(key('bnSquares', N, C, HW), N * C, squares, [xd, m]);
    const v = rt.run(key('bnChannelMean', N, C, HW), C, perChannel, [sq]);
    rt.read(m, mean);
    rt.read(v, variance);
  });
}
