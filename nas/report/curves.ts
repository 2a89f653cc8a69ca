/**
 * Learning curves of a run, drawn from its history: the search (Child / Parent validation accuracy
 * and the credit z of every sampled architecture for cp / bnas; loss and accuracy per epoch for darts)
 * and the training stage (Parent, then Child with its loss terms).
 */
import type { EpochRecord, HistoryRecord, SampleRecord } from '../types.js';
import { percentTick, type ChartSpec, type Series } from './chart.js';
import { dcpCurves, dnaCurves } from './family.js';

const pctAxis = percentTick;

/** Charts of the search stage; empty when the history holds no search records. */
export function searchCurves(history: readonly HistoryRecord[]): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const samples = history.filter((r): r is SampleRecord => r.type === 'sample');
  if (samples.length) {
    const idx = samples.map((_, i) => i + 1);
    // z first, so that it is drawn under A_P (with beta = 1, z equals A_P)
    const series: Series[] = [
      { name: 'z (credit)', points: samples.map((s, i) => [idx[i], s.z] as const), color: '#2ca02c' },
      { name: 'A_C (Child val)', points: samples.map((s, i) => [idx[i], s.A_C] as const), color: '#d62728' },
    ];
    if (samples.some((s) => s.A_P !== null)) {
      series.push({ name: 'A_P (Parent val)', points: samples.map((s, i) => [idx[i], s.A_P ?? Number.NaN] as const), color: '#1f77b4', dashed: true });
    }
    charts.push({ series, options: { title: 'Search: accuracy of each sampled architecture', xLabel: 'sampled architecture', yLabel: 'accuracy', yFormat: pctAxis } });
    const losses: Series[] = [{ name: 'Child loss', points: samples.map((s, i) => [idx[i], s.childLoss] as const), color: '#d62728' }];
    if (samples.some((s) => s.parentLoss !== null)) {
      losses.push({ name: 'Parent loss', points: samples.map((s, i) => [idx[i], s.parentLoss ?? Number.NaN] as const), color: '#1f77b4' });
    }
    charts.push({ series: losses, options: { title: 'Search: training loss of each sampled architecture', xLabel: 'sampled architecture', yLabel: 'loss' } });
  }
  const epochs = epochsOf(history, 'search');
  if (epochs.length) charts.push(...epochCharts(epochs, 'Search'));
  charts.push(...dcpCurves(history), ...dnaCurves(history));
  return charts;
}

/** Charts of the training stage (Parent and Child). */
export function trainingCurves(history: readonly HistoryRecord[]): ChartSpec[] {
  const parent = epochsOf(history, 'parent');
  const child = epochsOf(history, 'child');
  if (!parent.length && !child.length) return [];
  const acc: Series[] = [];
  if (parent.length) {
    acc.push({ name: 'Parent train', points: parent.map((r) => [r.epoch, r.trainAccuracy] as const), color: '#1f77b4', dashed: true });
    acc.push({ name: 'Parent val', points: parent.map((r) => [r.epoch, r.valAccuracy] as const), color: '#1f77b4' });
  }
  if (child.length) {
    acc.push({ name: 'Child train', points: child.map((r) => [r.epoch, r.trainAccuracy] as const), color: '#d62728', dashed: true });
    acc.push({ name: 'Child val', points: child.map((r) => [r.epoch, r.valAccuracy] as const), color: '#d62728' });
  }
  const loss: Series[] = [];
  if (parent.length) loss.push({ name: 'Parent loss', points: parent.map((r) => [r.epoch, r.loss] as const), color: '#1f77b4' });
  if (child.length) {
    loss.push({ name: 'Child loss', points: child.map((r) => [r.epoch, r.loss] as const), color: '#d62728' });
    if (child.some((r) => r.terms)) {
      loss.push({ name: 'Child CE', points: child.map((r) => [r.epoch, r.terms?.ce ?? Number.NaN] as const), color: '#ff7f0e', dashed: true });
      loss.push({ name: 'CP loss', points: child.map((r) => [r.epoch, r.terms?.cp ?? Number.NaN] as const), color: '#9467bd', dashed: true });
      loss.push({ name: 'center loss', points: child.map((r) => [r.epoch, r.terms?.center ?? Number.NaN] as const), color: '#8c564b', dashed: true });
    }
  }
  return [
    { series: acc, options: { title: 'Training: accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy', yFormat: pctAxis } },
    { series: loss, options: { title: 'Training: loss per epoch', xLabel: 'epoch', yLabel: 'loss' } },
  ];
}

function epochsOf(history: readonly HistoryRecord[], phase: EpochRecord['phase']): EpochRecord[] {
  return history.filter((r): r is EpochRecord => r.type === 'epoch' && r.phase === phase).sort((a, b) => a.epoch - b.epoch);
}

function epochCharts(epochs: EpochRecord[], what: string): ChartSpec[] {
  return [
    {
      series: [
        { name: 'train', points: epochs.map((r) => [r.epoch, r.trainAccuracy] as const), dashed: true },
        { name: 'val', points: epochs.map((r) => [r.epoch, r.valAccuracy] as const) },
      ],
      options: { title: `${what}: accuracy per epoch`, xLabel: 'epoch', yLabel: 'accuracy', yFormat: pctAxis },
    },
    { series: [{ name: 'loss', points: epochs.map((r) => [r.epoch, r.loss] as const) }], options: { title: `${what}: loss per epoch`, xLabel: 'epoch', yLabel: 'loss' } },
  ];
}
