import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../core/index.js';
import { BinaryConv2d } from '../../binary/binary-conv.js';
import { countOps } from '../../binary/count.js';
import { BatchNorm2d, Conv2d, GlobalAvgPool2d, Linear, Sequential } from '../../ops/layers.js';

function tinyChild(): Sequential {
  const rng = new Random(1);
  return new Sequential(
    new Conv2d(3, 8, 3, { padding: 1, rng }), // full-precision stem
    new BatchNorm2d(8),
    new BinaryConv2d(8, 16, 3, { stride: 2, padding: 1, rng }),
    new BinaryConv2d(16, 16, 3, { padding: 1, groups: 16, rng }), // depthwise
    new GlobalAvgPool2d(),
    new Linear(16, 10, true, rng),
  );
}

describe('countOps', () => {
  it('counts BOPs, FLOPs, OPs = BOPs/64 + FLOPs, parameters and bytes', () => {
    const model = tinyChild();
    const c = countOps(model, [1, 3, 8, 8]);
    // stem 8x8 out: 8·64·3·9; binary 4x4 out: 16·16·8·9 and depthwise 16·16·1·9; linear 16·10
    expect(c.flops).toBe(8 * 64 * 27 + 160);
    expect(c.bops).toBe(16 * 16 * 72 + 16 * 16 * 9);
    expect(c.ops).toBe(c.bops / 64 + c.flops);
    expect(c.binaryParams).toBe(16 * 8 * 9 + 16 * 9);
    // stem 216, BN 16, alphas 16 + 16, linear 170
    expect(c.floatParams).toBe(216 + 16 + 32 + 170);
    expect(c.sizeBytes).toBe(Math.ceil(c.binaryParams / 8) + 4 * c.floatParams);
    expect(c.layers.map((l) => `${l.name}:${l.kind}:${l.outputShape.join('x')}`)).toEqual([
      '0:conv:1x8x8x8', '2:binary-conv:1x16x4x4', '3:binary-conv:1x16x4x4', '5:linear:1x10',
    ]);
  });

  it('scales with the batch and leaves modes and forwards as they were', () => {
    const model = tinyChild();
    model.train();
    const one = countOps(model, [1, 3, 8, 8]), four = countOps(model, [4, 3, 8, 8]);
    expect(four.bops).toBe(4 * one.bops);
    expect(four.flops).toBe(4 * one.flops);
    expect(model.modules().every((m) => m.training)).toBe(true);
    expect(model.modules().every((m) => !Object.prototype.hasOwnProperty.call(m, 'forward'))).toBe(true);
    expect(model.forward(Tensor.zeros([1, 3, 8, 8])).shape).toEqual([1, 10]);
  });
});
