/** Batched matrix product: one thread per output element, the K-loop unrolled to a constant bound. */
import type { GpuRuntime } from '../runtime.js';
import { THREAD, kernelSource, key, unflatten } from '../codegen.js';

export function matmul(
  rt: GpuRuntime, a: Float32Array, b: Float32Array, out: Float32Array,
  batch: number, M: number, K: number, N: number,
  transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number,
): void {
  const n = batch * M * N;
  const source = () => {
    const aIdx = transA ? `k * ${M} + i` : `i * ${K} + k`;
    const bIdx = transB ? `j * ${K} + k` : `k * ${N} + j`;
    return kernelSource(['a', 'b'], `${THREAD}${unflatten('o', [batch, M, N], ['bt', 'i', 'j'])}
  const ao = bt * ${aBatchStride};
  const bo = bt * ${bBatchStride};
  let s = 0.0;
  for (let k = 0; k < ${K}; k++) {
    s += a[ao + ${aIdx}] * b[bo + ${bIdx}];
  }
  return s;`);
  };
  rt.op(() => {
    const r = rt.run(key('matmul', batch, M, K, N, transA, transB, aBatchStride, bBatchStride), n, source,
      [rt.upload(a), rt.upload(b)]);
    rt.read(r, out);
    rt.keep(out, r);
  });
}
