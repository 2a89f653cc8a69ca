/**
 * `BinaryConv2d`: a convolution whose activations and weights are 1 bit, the Child's convolution.
 *
 *   y = conv(sign(x), alpha ⊙ sign(w))      one alpha per output filter, alpha_k = mean(|w_k|)
 *
 * - Training mode (or whenever a gradient is wanted): the float convolution (`conv2d`) of the
 *   binarized activations and the reconstructed weights; gradients go back through the binarizers'
 *   straight-through estimators (binarizers.ts).
 * - Evaluation mode with no gradient wanted (`noGrad`): the bit-packed path, the backend's
 *   `xnorConv2d` on packed weight signs, which gives the same values. (An eval-mode forward that
 *   needs gradients, e.g. outside `noGrad`, takes the float path so that it stays differentiable.)
 *
 * The packed weights are cached and rebuilt only when the weight tensor's `version` changes (the
 * optimizers call `markChanged()`), and they are saved with the module's state as extra arrays
 * (`packedSigns`, u32: the weights' signs as one dense bit stream, 1/32 of the float weights' bytes,
 * see backends/cpu/bitpack.ts; and `alpha`, f32), so an inference-only load need not re-pack. (The
 * stream replaced an earlier format saved as `packedWeight`, with padding per kernel tap: a state
 * holding that key loads with `strict: false`, and the signs are then packed again from the weights.)
 */
import { CpnasError, Tensor, check, getBackend, needsGrad, noGrad, shapeStr, type Conv2dGeometry } from '../core/index.js';
import { packedWeightWords, xnorGeometry, type XnorConv2dGeometry } from '../backends/backend.js';
import { conv2d, conv2dGeometry, type Conv2dOptions as ConvOpOptions } from '../ops/conv.js';
import { Conv2d, type Conv2dOptions } from '../ops/layers.js';
import type { StateArray } from '../ops/state.js';
import { getBinarizer } from './binarizers.js';

export interface BinaryConv2dOptions extends Conv2dOptions {
  /** Activation binarizer by name (default 'approx', the Bi-Real estimator; 'ste' is the other). */
  activation?: string;
  /** Weight binarizer by name (default 'scaled': alpha ⊙ sign(w), one alpha per output filter). */
  weightBinarizer?: string;
}

interface PackedWeights {
  /** The weight tensor and version these were packed from. */
  source: Tensor;
  version: number;
  words: Uint32Array;
  alpha: Float32Array;
}

export class BinaryConv2d extends Conv2d {
  readonly activation: string;
  readonly weightBinarizer: string;
  /** Geometry of the last forward (input and output sizes), for inspection. */
  lastGeometry: Conv2dGeometry | null = null;
  #packed: PackedWeights | null = null;

  constructor(inChannels: number, outChannels: number, kernel: number | [number, number], opts: BinaryConv2dOptions = {}) {
    super(inChannels, outChannels, kernel, opts);
    this.activation = opts.activation ?? 'approx';
    this.weightBinarizer = opts.weightBinarizer ?? 'scaled';
    getBinarizer(this.activation); // unknown names fail here, listing the known ones
    getBinarizer(this.weightBinarizer);
  }

  /** The settings passed to the convolution op. */
  convOptions(): ConvOpOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }

  override forward(x: Tensor): Tensor {
    const opts = this.convOptions();
    const g = conv2dGeometry('BinaryConv2d', x.shape, this.weight.shape, opts);
    this.lastGeometry = g;
    if (this.training || needsGrad(x, this.weight, this.bias)) {
      const xb = getBinarizer(this.activation)(x);
      return conv2d(xb, this.reconstructedWeight(), this.bias, opts);
    }
    return this.packedForward(x, xnorGeometry(g));
  }

  /** Ĥ = alpha ⊙ sign(w) (the weight binarizer's output), differentiable: what the CP loss compares. */
  reconstructedWeight(): Tensor {
    return getBinarizer(this.weightBinarizer)(this.weight);
  }

  /** The packed weight signs (one dense bit stream, see backends/cpu/bitpack.ts), cached. */
  packedWeights(): Uint32Array {
    return this.pack().words;
  }

  /** The per-filter scales alpha used by the packed path, cached with the packed weights. */
  scales(): Float32Array {
    return this.pack().alpha;
  }

  private packedForward(x: Tensor, g: XnorConv2dGeometry): Tensor {
    const { words, alpha } = this.pack();
    const { N, K, P, Q } = g;
    const y = Tensor.zeros([N, K, P, Q]);
    getBackend().xnorConv2d(x.data, words, alpha, y.data, g);
    if (this.bias) {
      const b = this.bias.data, PQ = P * Q, d = y.data;
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
        const o = (n * K + k) * PQ, bk = b[k];
        for (let i = 0; i < PQ; i++) d[o + i] += bk;
      }
    }
    return y;
  }

  /** Geometry of the weights alone (what packing needs: K, C, R, S, groups). */
  private weightGeometry(): XnorConv2dGeometry {
    const [K, Cg, R, S] = this.weight.shape;
    return xnorGeometry({
      N: 1, C: Cg * this.groups, H: R, W: S, K, R, S, strideH: 1, strideW: 1, padH: 0, padW: 0,
      dilationH: 1, dilationW: 1, groups: this.groups, P: 1, Q: 1,
    });
  }

  private pack(): PackedWeights {
    const w = this.weight;
    const cached = this.#packed;
    if (cached && cached.source === w && cached.version === w.version) return cached;
    const hat = noGrad(() => this.reconstructedWeight());
    const K = w.shape[0], per = w.size / K, d = hat.data;
    const alpha = new Float32Array(K);
    for (let k = 0; k < K; k++) {
      const a = Math.abs(d[k * per]);
      for (let i = k * per, end = i + per; i < end; i++) {
        if (Math.abs(d[i]) !== a) {
          throw new CpnasError('BinaryConv2d', `weight binarizer '${this.weightBinarizer}' gave filter ${k} values of ` +
            `different magnitudes (${a} and ${Math.abs(d[i])}); the packed path needs alpha_k * sign(w) (weight ${shapeStr(w.shape)})`);
        }
      }
      alpha[k] = a;
    }
    const g = this.weightGeometry();
    const words = new Uint32Array(packedWeightWords(g));
    getBackend().packWeights(d, words, g);
    this.#packed = { source: w, version: w.version, words, alpha };
    return this.#packed;
  }

  override extraState(): Record<string, StateArray> {
    const p = this.pack();
    return { packedSigns: p.words, alpha: p.alpha };
  }

  override loadExtraState(state: Record<string, StateArray>): void {
    const words = state.packedSigns, alpha = state.alpha;
    if (words === undefined || alpha === undefined) {
      // a partial load (strict: false): the signs are packed again from the loaded weights when needed
      this.#packed = null;
      return;
    }
    check(words instanceof Uint32Array && alpha instanceof Float32Array, 'BinaryConv2d',
      () => 'saved state needs packedSigns (u32) and alpha (f32)');
    const want = packedWeightWords(this.weightGeometry()), K = this.weight.shape[0];
    check(words.length === want && alpha.length === K, 'BinaryConv2d',
      () => `saved packedSigns has ${words.length} words and alpha ${alpha.length} scales; weight ${shapeStr(this.weight.shape)} needs ${want} and ${K}`);
    // parameters are loaded (and marked changed) before extra state: these match the current version
    this.#packed = { source: this.weight, version: this.weight.version, words, alpha };
  }

  protected override extraRepr(): string {
    return `${super.extraRepr()}, activation=${this.activation}, weight=${this.weightBinarizer}`;
  }
}
