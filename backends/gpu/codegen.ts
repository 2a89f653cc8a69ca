/**
 * Helpers for writing kernel sources. A kernel is a JavaScript function in a string that gpu.js
 * transpiles (to GLSL, WebAssembly or plain JavaScript); the geometry is inlined as literals, so each
 * shape compiles its own kernel with constant loop bounds (GLSL ES 1.00 wants them).
 *
 * Index arithmetic runs in floats on the GL and webasm backends: every flat index must stay below
 * 2^24 to be exact (the backend falls back to the CPU beyond), and integer division is computed as a
 * float quotient corrected by one step, which is exact even where the GPU's division is not.
 */

/** Largest flat index a kernel may compute exactly in float32. */
export const MAX_INDEX = 1 << 24;

/** A float literal gpu.js types as a float (it always has a decimal point or an exponent). */
export function flt(v: number): string {
  if (Number.isNaN(v)) return '(0.0 / 0.0)';
  if (!Number.isFinite(v)) return v > 0 ? '(1.0 / 0.0)' : '(-1.0 / 0.0)';
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Statements declaring `q = floor(a / d)` and `r = a - q * d` for a non-negative integer `a`. */
export function divmod(q: string, r: string, a: string, d: number): string {
  if (d === 1) return `let ${q} = ${a};\n  let ${r} = 0;\n`;
  return `let ${q} = Math.floor((${a} + 0.5) / ${d});
  let ${r} = ${a} - ${q} * ${d};
  if (${r} < 0) { ${q} = ${q} - 1; ${r} = ${r} + ${d}; }
  if (${r} >= ${d}) { ${q} = ${q} + 1; ${r} = ${r} - ${d}; }
`;
}

/**
 * Statements declaring `names[i]`, the row-major multi-index of flat index `idx` in an array of `dims`
 * (outermost first). Temporaries are named `<name>_hi`.
 */
export function unflatten(idx: string, dims: readonly number[], names: readonly string[]): string {
  let src = '';
  let cur = idx;
  for (let d = dims.length - 1; d > 0; d--) {
    const hi = `${names[d]}_hi`;
    src += divmod(hi, names[d], cur, dims[d]);
    cur = hi;
  }
  return `${src}  let ${names[0]} = ${cur};\n`;
}

/** Statements declaring the flat output index `o` (this.thread.x). */
export const THREAD = 'const o = this.thread.x;\n';

/** A kernel function source with the given argument names and body. */
export function kernelSource(args: readonly string[], body: string): string {
  return `function (${args.join(', ')}) {\n  ${body}\n}`;
}

/** A cache key: a kernel name and the numbers that shape it. */
export function key(name: string, ...parts: (number | string | boolean)[]): string {
  return `${name}:${parts.join(',')}`;
}
