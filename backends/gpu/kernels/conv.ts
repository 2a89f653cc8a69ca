/**
 * Direct 2-D convolution kernels (any stride, padding, dilation and groups; depthwise is groups = C).
 * Each is a gather: one thread per output element, looping over what contributes to it, so no thread
 * writes another's element.
 *
 * - forward: y[n,k,p,q] = sum over c, r, s of x[n, g*Cg + c, p*sH - pH + r*dH, q*sW - pW + s*dW] * w[k,c,r,s]
 * - backward data: dx[n,c,h,w] = sum over the (k, r, s) whose output position p = (h + pH - r*dH) / sH
 *   (and q likewise) is whole and inside the output, of dy[n,k,p,q] * w[k,c,r,s]
 * - backward filter: dw[k,c,r,s] = sum over n, p, q of dy[n,k,p,q] * x[...]; when there are few filter
 *   elements the batch is split into chunks summed by a second kernel, the partial sums staying on the
 *   device.
 */
import type { Conv2dGeometry } from '../../backend.js';
import type { GpuRuntime } from '../runtime.js';
import { THREAD, divmod, kernelSource, key, unflatten } from '../codegen.js';

function geoKey(name: string, g: Conv2dGeometry, ...extra: number[]): string {
  return key(name, g.N, g.C, g.H, g.W, g.K, g.R, g.S, g.strideH, g.strideW, g.padH, g.padW,
    g.dilationH, g.dilationW, g.groups, ...extra);
}

export function conv2d(rt: GpuRuntime, x: Float32Array, w: Float32Array, y: Float32Array, g: Conv2dGeometry): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const source = () => kernelSource(['x', 'w'], `${THREAD}${unflatten('o', [N, K, P, Q], ['n', 'k', 'p', 'q'])}
  ${groups === 1 ? 'let grp = 0;' : divmod('grp', 'kInGroup', 'k', Kg)}
  const xBase = (n * ${C} + grp * ${Cg}) * ${H * W};
  const wBase = k * ${Cg * R * S};
  const h0 = p * ${strideH} - ${padH};
  const w0 = q * ${strideW} - ${padW};
  let s = 0.0;
  for (let r = 0; r < ${R}; r++) {
    const h = h0 + r * ${dilationH};
    if (h >= 0 && h < ${H}) {
      for (let t = 0; t < ${S}; t++) {
        const col = w0 + t * ${dilationW};
        if (col >= 0 && col < ${W}) {
          // the channel loop is innermost and branch-free
          let xi = xBase + h * ${W} + col;
          let wi = wBase + r * ${S} + t;
          for (let c = 0; c < ${Cg}; c++) {
            s += x[xi] * w[wi];
            xi += ${H * W};
            wi += ${R * S};
          }
        }
      }
    }
  }
  return s;`);
  rt.op(() => {
    const r = rt.run(geoKey('conv2d', g), y.length, source, [rt.upload(x), rt.upload(w)]);
    rt.read(r, y);
    rt.keep(y, r);
  });
}

/** Statements finding the output index `p` that input row `h` meets through kernel tap `r`; sets `okName`. */
function tapToOutput(p: string, ok: string, h: string, r: string, pad: number, dil: number, stride: number, P: number): string {
  const hp = `${p}_num`;
  let src = `const ${hp} = ${h} + ${pad} - ${r} * ${dil};\n  `;
  if (stride === 1) {
    src += `const ${p} = ${hp};\n  const ${ok} = ${hp} >= 0 && ${hp} < ${P};\n`;
  } else {
    src += `let ${p} = Math.floor((${hp} + 0.5) / ${stride});\n  ` +
      `const ${ok} = ${hp} >= 0 && ${p} * ${stride} == ${hp} && ${p} < ${P};\n`;
  }
  return src;
}

export function conv2dBackwardData(rt: GpuRuntime, dy: Float32Array, w: Float32Array, dx: Float32Array, g: Conv2dGeometry): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const source = () => kernelSource(['dy', 'w'], `${THREAD}${unflatten('o', [N, C, H, W], ['n', 'c', 'h', 'col'])}
  ${groups === 1 ? 'let grp = 0;\n  let cc = c;' : divmod('grp', 'cc', 'c', Cg)}
  const dyBase = (n * ${K} + grp * ${Kg}) * ${P * Q};
  const wBase = (grp * ${Kg * Cg} + cc) * ${R * S};
  let s = 0.0;
  for (let r = 0; r < ${R}; r++) {
    ${tapToOutput('p', 'pOk', 'h', 'r', padH, dilationH, strideH, P)}
    if (pOk) {
      for (let t = 0; t < ${S}; t++) {
        ${tapToOutput('q', 'qOk', 'col', 't', padW, dilationW, strideW, Q)}
        if (qOk) {
          // the output-channel loop is innermost and branch-free
          let dyi = dyBase + p * ${Q} + q;
          let wi = wBase + r * ${S} + t;
          for (let kk = 0; kk < ${Kg}; kk++) {
            s += dy[dyi] * w[wi];
            dyi += ${P * Q};
            wi += ${Cg * R * S};
          }
        }
      }
    }
  }
  return s;`);
  rt.op(() => {
    const r = rt.run(geoKey('conv2dBackwardData', g), dx.length, source, [rt.upload(dy), rt.upload(w)]);
    rt.read(r, dx);
    rt.keep(dx, r);
  });
}

/** Below this many filter elements the weight gradient splits the batch across more threads. */
const FILTER_THREADS = 16384;

export function conv2dBackwardFilter(rt: GpuRuntime, x: Float32Array, dy: Float32Array, dw: Float32Array, g: Conv2dGeometry): void {
  const { N, C, H, W, K, R, S, strideH, strideW, padH, padW, dilationH, dilationW, groups, P, Q } = g;
  const Cg = C / groups, Kg = K / groups;
  const F = dw.length; // K * Cg * R * S
  const chunks = Math.max(1, Math.min(N, Math.ceil(FILTER_THREADS / F)));
  const per = Math.ceil(N / chunks);
  const partial = () => kernelSource(['x', 'dy'], `${THREAD}${unflatten('o', [chunks, K, Cg, R, S], ['chunk', 'k', 'c', 'r', 't'])}
  ${groups === 1 ? 'let grp = 0;' : divmod('grp', 'kInGroup', 'k', Kg)}
  const hOff = r * ${dilationH} - ${padH};
  const wOff = t * ${dilationW} - ${padW};
  let s = 0.0;
  for (let i = 0; i < ${per}; i++) {
    const n = chunk * ${per} + i;
    if (n < ${N}) {
      const xBase = (n * ${C} + grp * ${Cg} + c) * ${H * W};
      const dyBase = (n * ${K} + k) * ${P * Q};
      for (let p = 0; p < ${P}; p++) {
        const h = p * ${strideH} + hOff;
        if (h >= 0 && h < ${H}) {
          for (let q = 0; q < ${Q}; q++) {
            const ww = q * ${strideW} + wOff;
            if (ww >= 0 && ww < ${W}) {
              s += dy[dyBase + p * ${Q} + q] * x[xBase + h * ${W} + ww];
            }
          }
        }
      }
    }
  }
  return s;`);
  const sum = () => kernelSource(['part'], `${THREAD}let s = 0.0;
  for (let i = 0; i < ${chunks}; i++) {
    s += part[i * ${F} + o];
  }
  return s;`);
  rt.op(() => {
    let r = rt.run(geoKey('conv2dBackwardFilter', g, chunks), F * chunks, partial, [rt.upload(x), rt.upload(dy)]);
    if (chunks > 1) r = rt.run(key('sumChunks', chunks, F), F, sum, [r]);
    rt.read(r, dw);
  });
}
