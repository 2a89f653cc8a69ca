/**
 * `cpnas summary --model DIR`: the layers of a saved Child or Parent as a table, the way Keras'
 * `model.summary()` and Larq's `lq.models.summary()` print them: every convolution and linear layer
 * with its output shape, parameters, whether its weights are 1-bit or float, its BOPs or FLOPs for one
 * image, and the bytes its weights take; the remaining float parameters (batch norm) in one row; the
 * totals. The counting conventions are binary/count.ts's (OPs = BOPs / 64 + FLOPs).
 */
import { UsageError, type FlagValues } from '../args.js';
import { dirFlag } from '../config.js';
import type { Ctx } from '../context.js';
import { bytes, count } from '../../nas/report/xml.js';

export interface SummaryRow {
  name: string;
  kind: 'binary-conv' | 'conv' | 'linear' | 'other';
  outputShape: number[] | null;
  params: number;
  /** 1 for 1-bit weights, 32 for float. */
  bits: 1 | 32;
  bops: number;
  flops: number;
  bytes: number;
}

export interface ModelSummary {
  model: string;
  kind: string;
  inputShape: number[];
  rows: SummaryRow[];
  total: { params: number; binaryParams: number; floatParams: number; bops: number; flops: number; ops: number; bytes: number };
}

/** The per-layer table of a saved model folder (or a run folder's Child). */
export async function modelSummary(dir: string): Promise<ModelSummary> {
  const [{ loadModel, modelPath }, { countOps }, { BinaryConv2d }] = await Promise.all([
    import('../../nas/evaluate.js'), import('../../binary/count.js'), import('../../binary/binary-conv.js'),
  ]);
  const { net, meta } = loadModel(dir);
  const counted = countOps(net, [1, ...meta.inputShape]);
  const modules = new Map(net.namedModules());
  const rows: SummaryRow[] = [];
  const seen = new Set<string>();
  let layerParams = 0;
  for (const l of counted.layers) {
    if (seen.has(l.name)) continue; // a layer called twice is listed once
    seen.add(l.name);
    const m = modules.get(l.name) as { weight: { size: number; shape: number[] }; bias?: { size: number } | null } | undefined;
    const weights = m?.weight.size ?? 0;
    const bias = m?.bias?.size ?? 0;
    const binary = m instanceof BinaryConv2d;
    layerParams += weights + bias;
    rows.push({
      name: l.name, kind: l.kind, outputShape: l.outputShape.slice(1), params: weights + bias, bits: binary ? 1 : 32,
      bops: l.bops, flops: l.flops,
      // 1-bit weights at 1 bit (one contiguous bit stream for the model, so a layer's share may be
      // a fraction of a byte), plus one float alpha per filter; float weights and biases at 4 bytes
      bytes: binary ? weights / 8 + 4 * ((m?.weight.shape[0] ?? 0) + bias) : 4 * (weights + bias),
    });
  }
  const allParams = counted.binaryParams + counted.floatParams;
  const alphas = rows.filter((r) => r.kind === 'binary-conv').reduce((a, r) => a + (r.bytes - r.params / 8) / 4, 0);
  const other = allParams - alphas - layerParams;
  if (other > 0) rows.push({ name: '(batch norm and other float parameters)', kind: 'other', outputShape: null, params: other, bits: 32, bops: 0, flops: 0, bytes: 4 * other });
  return {
    model: modelPath(dir), kind: meta.kind, inputShape: meta.inputShape, rows,
    total: {
      params: counted.binaryParams + counted.floatParams - alphas, binaryParams: counted.binaryParams, floatParams: counted.floatParams,
      bops: counted.bops, flops: counted.flops, ops: counted.ops, bytes: counted.sizeBytes,
    },
  };
}

/** The table as text, columns aligned. */
export function formatModelSummary(s: ModelSummary): string {
  const head = ['layer', 'type', 'output shape', 'params', 'weights', 'BOPs', 'FLOPs', 'bytes'];
  const kinds: Record<SummaryRow['kind'], string> = { 'binary-conv': 'BinaryConv2d', conv: 'Conv2d', linear: 'Linear', other: '' };
  const body = s.rows.map((r) => [
    r.name, kinds[r.kind], r.outputShape ? `[${r.outputShape.join(', ')}]` : '', count(r.params), r.bits === 1 ? '1-bit' : 'float',
    r.bops ? count(r.bops) : '0', r.flops ? count(r.flops) : '0', bytes(r.bytes),
  ]);
  const t = s.total;
  const foot = ['total', '', '', count(t.params), `${count(t.binaryParams)} 1-bit`, count(t.bops), count(t.flops), bytes(t.bytes)];
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length), foot[i].length));
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const rule = '-'.repeat(widths.reduce((a, w) => a + w + 2, -2));
  return [
    `Model ${s.model} (${s.kind === 'child' ? 'Child, 1-bit weights and activations' : 'Parent, full precision'}), input [${s.inputShape.join(', ')}], per image:`,
    line(head), rule, ...body.map(line), rule, line(foot),
    `OPs = BOPs / 64 + FLOPs = ${count(t.ops)}; ${count(t.floatParams)} float values stored (incl. one alpha per 1-bit filter); size ${bytes(t.bytes)}`,
    '',
  ].join('\n');
}

export async function summaryCommand(ctx: Ctx, values: FlagValues): Promise<number> {
  const model = dirFlag(values, 'model');
  if (!model) throw new UsageError('--model', 'is required: a run folder or its child/ or parent/ model folder');
  await ctx.start('cpu');
  const s = await modelSummary(model);
  ctx.print(values.json ? JSON.stringify(s, null, 2) : formatModelSummary(s));
  return 0;
}
