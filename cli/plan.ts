/**
 * The work of a run's phases, for the whole-run ETA of the progress display (progress.ts). A rough
 * model is enough, because the display measures the actual rate as the run goes: work is image passes
 * (a training pass counted as 3: forward and backward) times cells x channels², the cost of a cell's
 * convolutions. Search steps are sampled architectures for cp / bnas / random (each trains the Child,
 * and for cp the Parent, on `sampleFraction` of the search-train split and measures them on
 * `valFraction` of the search-validation split), batches over the whole supernet for darts; training
 * steps are batches, the Child's counted 1.5 times (the Parent's forward pass for the CP loss).
 */
import type { PlannedPhase } from './progress.js';
import type { SearchSettings, TrainSettings } from '../nas/types.js';

const cost = (cells: number, channels: number) => cells * channels * channels;

export function searchPhase(s: SearchSettings, searchTrain: number, searchVal: number): PlannedPhase {
  const c = cost(s.cells, s.channels);
  if (s.strategy === 'darts') return { phase: 'search', unitsPerStep: s.batchSize * 3 * Math.max(1, s.primitives.length) * c };
  const nets = s.strategy === 'cp' && s.beta > 0 ? 2 : 1;
  return { phase: 'search', unitsPerStep: nets * (3 * s.sampleFraction * searchTrain + s.valFraction * searchVal) * c };
}

export function trainingPhases(t: TrainSettings, trainImages: number): PlannedPhase[] {
  const perEpoch = Math.max(1, Math.ceil(trainImages / t.batchSize));
  const perStep = t.batchSize * 3 * cost(t.cells, t.channels);
  return [
    { phase: 'parent', unitsPerStep: perStep, steps: Math.max(1, Math.round(t.parentEpochs * perEpoch)) },
    { phase: 'child', unitsPerStep: perStep * 1.5, steps: Math.max(1, Math.round(t.childEpochs * perEpoch)) },
  ];
}
