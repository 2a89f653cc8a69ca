/**
 * Autograd hands the gradients it has consumed back to the backend for reuse (core/alloc.ts,
 * core/autograd.ts): training gives the same bits with the reuse on and off, on Parent and 1-bit Child
 * networks of the DARTS-V2 cell (separable, dilated and 1x1 convolutions, batch norm, pooling,
 * skip connections, concatenation: gradients passed through, summed, sliced), on 1 and 2 threads; and
 * arrays really are handed back, and handed out again.
 *
 * Every array handed back is first filled with NaN here: an op that takes storage for a kernel's
 * output (core/alloc.ts allocOutput, not zero-filled when reused) and then leaves a value unwritten
 * shows as NaN in the parameters.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Random, Tensor, enableGrad, getBackend, storageSettings } from '../../core/index.js';
import { getThreads, setThreads } from '../../backends/cpu/threads.js';
import { defaultSearchSettings } from '../../nas/settings.js';
import { namedGenotype } from '../../nas/named-genotypes.js';
import { GenotypeNetwork } from '../../nas/network.js';
import { crossEntropy } from '../../ops/loss.js';
import { SGD } from '../../ops/optim/sgd.js';

const initialThreads = getThreads();
afterEach(() => {
  storageSettings.reuseGradients = true;
  setThreads(initialThreads);
});

/** Parameters and eval-mode logits after three SGD steps, as one list of arrays. */
function train(binary: boolean): Float32Array[] {
  const rng = new Random(3);
  const net = new GenotypeNetwork(namedGenotype('darts_v2'), {
    inputChannels: 3, numClasses: 10, cells: 3, channels: 8, nodes: 4, stemMultiplier: 3, binary,
    binarizers: defaultSearchSettings().binarizers, rng,
  }).train();
  const opt = new SGD(net.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 3e-4 });
  const x = Tensor.randn([4, 3, 16, 16], 1, rng), y = Int32Array.of(1, 3, 5, 7);
  for (let s = 0; s < 3; s++) {
    enableGrad(() => {
      const loss = crossEntropy(net.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  }
  const out = net.parameters().map((p) => p.data.slice());
  net.eval();
  out.push(net.forward(x).data.slice());
  return out;
}

describe('gradient storage reuse', () => {
  it('gives the same bits as fresh storage (Parent and 1-bit Child, 1 and 2 threads), and reuses arrays', () => {
    const be = getBackend();
    const release = be.releaseFloat32;
    expect(release, 'the cpu backend keeps released arrays').toBeTypeOf('function');
    let released = 0;
    be.releaseFloat32 = (a) => { released++; a.fill(NaN); release?.call(be, a); };
    try {
      for (const threads of [1, 2]) {
        setThreads(threads);
        for (const binary of [false, true]) {
          storageSettings.reuseGradients = false;
          const off = train(binary);
          expect(released).toBe(0);
          storageSettings.reuseGradients = true;
          const on = train(binary);
          expect(released, `gradients handed back (${threads} threads, binary ${binary})`).toBeGreaterThan(0);
          released = 0;
          expect(on.length).toBe(off.length);
          for (let i = 0; i < on.length; i++) {
            expect(Buffer.from(on[i].buffer).equals(Buffer.from(off[i].buffer)), `array ${i} (${threads} threads, binary ${binary})`).toBe(true);
          }
        }
      }
    } finally {
      be.releaseFloat32 = release;
    }
  }, 60_000);
});
