/**
 * Max and average pooling, as the CPU backend defines them: padded cells never win a max and are not
 * counted by an average. Max pooling computes each window's winning flat input index on the device
 * (first maximum, like the CPU loop) and gathers the values from it on the host; both backward passes
 * are gathers over the windows that contain each input cell.
 */
import type { Pool2dGeometry } from '../../backend.js';
import type { GpuRuntime } from '../runtime.js';
import { THREAD, kernelSource, key, unflatten } from '../codegen.js';

function geoKey(name: string, g: Pool2dGeometry): string {
  return key(name, g.N, g.C, g.H, g.W, g.kH, g.kW, g.strideH, g.strideW, g.padH, g.padW);
}

/** Window bounds of output (p, q), clipped to the image: hs..he-1, ws..we-1. */
function windowOf(g: Pool2dGeometry): string {
  return `const h0 = p * ${g.strideH} - ${g.padH};
  const w0 = q * ${g.strideW} - ${g.padW};
  const hs = Math.max(h0, 0);
  const he = Math.min(h0 + ${g.kH}, ${g.H});
  const ws = Math.max(w0, 0);
  const we = Math.min(w0 + ${g.kW}, ${g.W});
`;
}

export function maxPool2d(rt: GpuRuntime, x: Float32Array, y: Float32Array, argmax: Int32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, P, Q } = g;
  const source = () => kernelSource(['x'], `${THREAD}${unflatten('o', [N * C, P, Q], ['nc', 'p', 'q'])}
  ${windowOf(g)}
  const base = nc * ${H * W};
  let best = 0.0;
  let bi = -1.0;
  for (let i = 0; i < ${kH}; i++) {
    const h = h0 + i;
    if (h >= hs && h < he) {
      for (let j = 0; j < ${kW}; j++) {
        const col = w0 + j;
        if (col >= ws && col < we) {
          const idx = base + h * ${W} + col;
          const v = x[idx];
          if (bi < 0 || v > best) {
            best = v;
            bi = idx;
          }
        }
      }
    }
  }
  return bi;`);
  const idx = new Float32Array(y.length);
  rt.op(() => rt.read(rt.run(geoKey('maxPool2dArgmax', g), y.length, source, [rt.upload(x)]), idx));
  for (let o = 0; o < y.length; o++) {
    const i = idx[o];
    argmax[o] = i;
    y[o] = i < 0 ? 0 : x[i];
  }
}

export function maxPool2dBackward(rt: GpuRuntime, dy: Float32Array, argmax: Int32Array, dx: Float32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  const source = () => kernelSource(['dy', 'am'], `${THREAD}${unflatten('o', [N * C, H, W], ['nc', 'h', 'col'])}
  const outBase = nc * ${P * Q};
  let s = 0.0;
  for (let i = 0; i < ${kH}; i++) {
    const hp = h + ${padH} - i;
    const p = Math.floor((hp + 0.5) / ${strideH});
    if (hp >= 0 && p * ${strideH} == hp && p < ${P}) {
      for (let j = 0; j < ${kW}; j++) {
        const wq = col + ${padW} - j;
        const q = Math.floor((wq + 0.5) / ${strideW});
        if (wq >= 0 && q * ${strideW} == wq && q < ${Q}) {
          const oi = outBase + p * ${Q} + q;
          if (am[oi] == o) {
            s += dy[oi];
          }
        }
      }
    }
  }
  return s;`);
  rt.op(() => {
    const r = rt.run(geoKey('maxPool2dBackward', g), dx.length, source, [rt.upload(dy), rt.upload(Float32Array.from(argmax), true)]);
    rt.read(r, dx);
    rt.keep(dx, r);
  });
}

export function avgPool2d(rt: GpuRuntime, x: Float32Array, y: Float32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, P, Q } = g;
  const source = () => kernelSource(['x'], `${THREAD}${unflatten('o', [N * C, P, Q], ['nc', 'p', 'q'])}
  ${windowOf(g)}
  const base = nc * ${H * W};
  let s = 0.0;
  for (let i = 0; i < ${kH}; i++) {
    const h = h0 + i;
    if (h >= hs && h < he) {
      for (let j = 0; j < ${kW}; j++) {
        const col = w0 + j;
        if (col >= ws && col < we) {
          s += x[base + h * ${W} + col];
        }
      }
    }
  }
  const count = (he - hs) * (we - ws);
  let v = 0.0;
  if (count > 0) {
    v = s / count;
  }
  return v;`);
  rt.op(() => {
    const r = rt.run(geoKey('avgPool2d', g), y.length, source, [rt.upload(x)]);
    rt.read(r, y);
    rt.keep(y, r);
  });
}

export function avgPool2dBackward(rt: GpuRuntime, dy: Float32Array, dx: Float32Array, g: Pool2dGeometry): void {
  const { N, C, H, W, kH, kW, strideH, strideW, padH, padW, P, Q } = g;
  const source = () => kernelSource(['dy'], `${THREAD}${unflatten('o', [N * C, H, W], ['nc', 'h', 'col'])}
  const outBase = nc * ${P * Q};
  let s = 0.0;
  for (let i = 0; i < ${kH}; i++) {
    const hp = h + ${padH} - i;
    const p = Math.floor((hp + 0.5) / ${strideH});
    if (hp >= 0 && p * ${strideH} == hp && p < ${P}) {
      const h0 = p * ${strideH} - ${padH};
      const rows = Math.min(h0 + ${kH}, ${H}) - Math.max(h0, 0);
      for (let j = 0; j < ${kW}; j++) {
        const wq = col + ${padW} - j;
        const q = Math.floor((wq + 0.5) / ${strideW});
        if (wq >= 0 && q * ${strideW} == wq && q < ${Q}) {
          const w0 = q * ${strideW} - ${padW};
          const cols = Math.min(w0 + ${kW}, ${W}) - Math.max(w0, 0);
          s += dy[outBase + p * ${Q} + q] / (rows * cols);
        }
      }
    }
  }
  return s;`);
  rt.op(() => {
    const r = rt.run(geoKey('avgPool2dBackward', g), dx.length, source, [rt.upload(dy)]);
    rt.read(r, dx);
    rt.keep(dx, r);
  });
}
