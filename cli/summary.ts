/** The final printout of a run: accuracies, costs, times, the genotype and the run folder's files. */
import { formatGenotype } from '../nas/genotype.js';
import type { EvaluationResult, Genotype, ModelReport, RunResult } from '../nas/types.js';
import { bytes, count, duration, pct } from '../nas/report/xml.js';

export function runSummary(dir: string, genotype: Genotype, result: RunResult | null, searchSeconds: number, files: readonly string[]): string {
  const lines: string[] = [''];
  if (result) {
    const row = (name: string, m: ModelReport) =>
      `  ${name.padEnd(24)} ${pct(m.testAccuracy).padStart(9)}   OPs ${count(m.ops).padStart(8)}   size ${bytes(m.sizeBytes).padStart(10)}   ` +
      (m.binaryParams ? `params ${count(m.fpParams)} fp + ${count(m.binaryParams)} 1-bit` : `params ${count(m.fpParams)} fp`);
    lines.push('Test accuracy:', row('Child (1-bit W/A)', result.child), row('Parent (full precision)', result.parent));
    lines.push(`  Child: ${result.childBlock ?? 'bireal'} form, BOPs ${count(result.child.bops)}, FLOPs ${count(result.child.flops)} (OPs = BOPs/64 + FLOPs)`);
    const b = result.budget;
    if (b) {
      const limits = [b.maxOps !== null ? `at most ${b.maxOps} OPs` : '', b.maxBytes !== null ? `at most ${b.maxBytes} bytes` : ''].filter(Boolean).join(', ');
      lines.push(`Budget: ${limits}; the Child has ${Math.round(b.ops)} OPs and ${b.bytes} bytes (${b.fits ? 'within' : 'OVER'} the budget)`);
    }
    lines.push(`Time: search ${duration(result.searchSeconds)}, training ${duration(result.trainSeconds)}`);
  } else {
    lines.push(`Search finished in ${duration(searchSeconds)} (no training stage: --no-train).`);
  }
  lines.push('Genotype:', ...formatGenotype(genotype).split('\n').map((l) => `  ${l}`));
  lines.push(`Run folder ${dir}:`, ...wrapList(files, '  '));
  if (files.includes('report.html')) lines.push(`Open ${dir}/report.html in a browser for the cells, the indicator per edge and the learning curves.`);
  lines.push('');
  return lines.join('\n');
}

export function evaluationSummary(modelDir: string, r: EvaluationResult): string {
  const lines = [
    '',
    `Model ${modelDir} (${r.kind === 'child' ? 'Child, 1-bit weights and activations' : 'Parent, full precision'}), ${r.images} test images:`,
    `  test accuracy        ${pct(r.testAccuracy)}${r.kind === 'child' ? '  (1-bit inference engine, packed signs)' : ''}`,
  ];
  if (r.exported) {
    lines[1] = `Exported Child ${modelDir} (1-bit inference plan), ${r.images} test images:`;
    lines[2] = `  test accuracy        ${pct(r.testAccuracy)}  (1-bit inference engine)`;
    lines.push(`  speed                ${r.imagesPerSecondPacked.toFixed(1)} img/s`);
  } else if (r.kind === 'child') {
    lines.push(`  float-simulated      ${pct(r.floatTestAccuracy)}`);
    lines.push(`  agreement            ${pct(r.agreement)} of predictions identical`);
    lines.push(`  speed                ${r.imagesPerSecondPacked.toFixed(1)} img/s packed, ${r.imagesPerSecondFloat.toFixed(1)} img/s float`);
  } else {
    lines.push(`  speed                ${r.imagesPerSecondFloat.toFixed(1)} img/s`);
  }
  lines.push('');
  return lines.join('\n');
}

/** File names several to a line. */
function wrapList(items: readonly string[], indent: string, width = 96): string[] {
  const lines: string[] = [];
  let cur = indent;
  for (const item of items) {
    if (cur.length > indent.length && cur.length + item.length + 2 > width) {
      lines.push(cur.trimEnd());
      cur = indent;
    }
    cur += `${item}  `;
  }
  if (cur.trim()) lines.push(cur.trimEnd());
  return lines;
}
