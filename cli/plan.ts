/**
 * The work of a run's phases, for the whole-run ETA of the progress display (progress.ts). A rough
 * model is enough, because the display measures the actual rate as the run goes; what it must get
 * right is the ratio between the phases. At the sizes these networks run on a CPU, a batch's pass
 * through a network costs mostly per-layer work that grows slowly with the width, so the unit is a
 * batch pass (forward = 1, forward + backward = 3) times cells x (channels + 16): measured on the
 * default preset, a search sample and a training step then take the time the model gives them within
 * about 20 %, where counting multiply-adds (cells x channels²) put the training at a quarter of its
 * real time and showed a run of 12 minutes as `run 50:04`.
 *
 * Search steps are sampled architectures for cp / cp-child / bnas / random (each trains the Child, and
 * for cp the Parent, on `sampleFraction` of the search-train split and measures them on `valFraction`
 * of the search-validation split), batches over the whole supernet for darts and pc-darts; training
 * steps are batches, the Child's counted 1.5 times (binarizers, the CP and center losses).
 */
import type { PlannedPhase } from './progress.js';
import type { SearchSettings, TrainSettings } from '../nas/types.js';

/** One batch's pass through a network of `cells` cells of `channels` channels. */
const pass = (cells: number, channels: number) => cells * (channels + 16);

export function searchPhase(s: SearchSettings, searchTrain: number, searchVal: number): PlannedPhase {
  const c = pass(s.cells, s.channels);
  // a weight step and an architecture step, each through every candidate operation
  if (s.strategy === 'darts' || s.strategy === 'pc-darts') return { phase: 'search', unitsPerStep: 2 * 3 * Math.max(1, s.primitives.length) * c };
  const nets = s.strategy === 'cp' && s.beta > 0 ? 2 : 1;
  const trainBatches = Math.max(1, Math.round((s.sampleFraction * searchTrain) / s.batchSize));
  const valBatches = Math.ceil((s.valFraction * searchVal) / s.batchSize);
  return { phase: 'search', unitsPerStep: nets * (3 * trainBatches + valBatches) * c };
}

export function trainingPhases(t: TrainSettings, trainImages: number): PlannedPhase[] {
  const perEpoch = Math.max(1, Math.ceil(trainImages / t.batchSize));
  const perStep = 3 * pass(t.cells, t.channels);
  return [
    { phase: 'parent', unitsPerStep: perStep, steps: Math.max(1, Math.round(t.parentEpochs * perEpoch)) },
    { phase: 'child', unitsPerStep: perStep * 1.5, steps: Math.max(1, Math.round(t.childEpochs * perEpoch)) },
  ];
}
