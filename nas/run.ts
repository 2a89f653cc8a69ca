/**
 * The three functions the CLI calls, one per command:
 * - `runSearch({ settings, data: { searchTrain, searchVal }, outDir, resume, onProgress, log, signal })`
 *   -> `{ genotype, history, searchSeconds }` (writes genotype.json, history.jsonl, checkpoints/search);
 * - `runTraining({ genotype, settings, data: { train, val?, test }, outDir, resume, onProgress, log })`
 *   -> the run's result (writes parent/, child/, result.json, appends to history.jsonl);
 * - `runEvaluation({ modelDir, data: { test } })` -> accuracies on the bit-packed and float paths and
 *   their speeds.
 * Types are in types.ts; defaults and validation of settings in settings.ts.
 */
export { runSearch } from './search.js';
export { runTraining } from './train.js';
export { loadModel, runEvaluation } from './evaluate.js';
export { defaultSearchSettings, defaultTrainSettings, resolveSearchSettings, resolveTrainSettings } from './settings.js';
