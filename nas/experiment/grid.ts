/**
 * The experiment grid: strategies x setting values x seeds, each cell one run folder. A swept setting
 * (beta, T, lambda...) multiplies only the strategies that read it: darts has no beta, so a beta sweep
 * runs darts once per seed, at the base settings. Which strategy reads which setting is a small registry
 * (`registerSettingReaders`), so a strategy added later (dcp, dna, a user's) joins a sweep with one call;
 * a setting nobody registered is taken to matter to every strategy.
 *
 * Everything here is plain data, so that the grid can be written as a plan, run one folder after
 * another, or collected from folders a cluster filled.
 */
import { CpnasError } from '../../core/index.js';
import type { SearchSettings, TrainSettings } from '../types.js';

/** A setting swept over values, in the search or the training settings. */
export interface Sweep {
  stage: 'search' | 'train';
  key: string;
  values: number[];
}

export interface GridSpec {
  strategies: string[];
  seeds: number[];
  sweeps: Sweep[];
  /** The settings every run starts from (its seed and strategy are set per run). */
  base: { search: SearchSettings; train: TrainSettings };
}

export interface GridRun {
  /** Folder name inside the experiment folder: `cp-beta2-seed0`. */
  id: string;
  strategy: string;
  seed: number;
  /** The swept settings this run's strategy reads, with this run's values. */
  point: { [key: string]: number };
  search: SearchSettings;
  train: TrainSettings;
}

const readers = new Map<string, Set<string>>([
  // the CP indicator's weight of the Child-Parent gap
  ['beta', new Set(['cp'])],
  // sampling repetitions per round: the indicator strategies
  ['T', new Set(['cp', 'cp-child', 'bnas'])],
  ['keepOps', new Set(['cp', 'cp-child', 'bnas'])],
  ['bnasUcb', new Set(['bnas'])],
  ['partialChannels', new Set(['pc-darts', 'bnas'])],
  ['warmupEpochs', new Set(['pc-darts', 'bnas'])],
  ['dartsEpochs', new Set(['darts', 'pc-darts', 'dcp'])],
  ['archLr', new Set(['darts', 'pc-darts', 'bnas', 'dcp'])],
  ['archWeightDecay', new Set(['darts', 'pc-darts', 'bnas', 'dcp'])],
  ...['dcpLambda', 'dcpKl', 'dcpMu', 'dcpFisherGroups', 'dcpTau', 'dcpPsiLr'].map((k) => [k, new Set(['dcp'])] as [string, Set<string>]),
  ...['dnaTeacherEpochs', 'dnaBlockEpochs', 'dnaRepeats'].map((k) => [k, new Set(['dna'])] as [string, Set<string>]),
]);

/** Declares that `strategies` read the search setting `key` (adds to what is known). */
export function registerSettingReaders(key: string, strategies: readonly string[]): void {
  const set = readers.get(key) ?? new Set<string>();
  for (const s of strategies) set.add(s);
  readers.set(key, set);
}

/** Whether a swept setting changes what `strategy` computes. Training settings matter to every strategy but random's search. */
export function reads(strategy: string, sweep: Pick<Sweep, 'stage' | 'key'>): boolean {
  if (sweep.stage === 'train') return true;
  if (strategy === 'random') return false;
  const set = readers.get(sweep.key);
  return set ? set.has(strategy) : true;
}

/** `beta2`, `sampleFraction0.5`, `T3`: a setting value as part of a folder name. */
export function pointLabel(point: { [key: string]: number }): string {
  return Object.entries(point).map(([k, v]) => `${k}${String(v).replace(/[^0-9a-zA-Z.+-]/g, '_')}`).join('-');
}

function product(sweeps: readonly Sweep[]): { [key: string]: number }[] {
  let points: { [key: string]: number }[] = [{}];
  for (const s of sweeps) points = points.flatMap((p) => s.values.map((v) => ({ ...p, [s.key]: v })));
  return points;
}

/** Every run of the grid, strategy by strategy, point by point, seed by seed; no two with the same id. */
export function expandGrid(spec: GridSpec): GridRun[] {
  if (!spec.strategies.length) throw new CpnasError('experiment', 'the grid needs at least one strategy');
  if (!spec.seeds.length) throw new CpnasError('experiment', 'the grid needs at least one seed');
  if (new Set(spec.strategies).size !== spec.strategies.length) throw new CpnasError('experiment', `a strategy is named twice: ${spec.strategies.join(',')}`);
  const keys = spec.sweeps.map((s) => s.key);
  if (new Set(keys).size !== keys.length) throw new CpnasError('experiment', `a setting is swept twice: ${keys.join(',')}`);
  for (const s of spec.sweeps) {
    if (!s.values.length) throw new CpnasError('experiment', `the sweep of ${s.key} has no value`);
    if (new Set(s.values).size !== s.values.length) throw new CpnasError('experiment', `the sweep of ${s.key} repeats a value: ${s.values.join(',')}`);
  }
  const runs: GridRun[] = [];
  for (const strategy of spec.strategies) {
    const mine = spec.sweeps.filter((s) => reads(strategy, s));
    for (const point of product(mine)) {
      for (const seed of spec.seeds) {
        const search = { ...structuredClone(spec.base.search), strategy, seed } as SearchSettings;
        const train = { ...structuredClone(spec.base.train), seed };
        for (const s of mine) ((s.stage === 'search' ? search : train) as unknown as Record<string, number>)[s.key] = point[s.key];
        const label = pointLabel(point);
        runs.push({ id: `${strategy}${label ? `-${label}` : ''}-seed${seed}`, strategy, seed, point, search, train });
      }
    }
  }
  return runs;
}

/** The runs grouped by strategy and point: one row of the table each, in grid order. */
export function groupKey(run: Pick<GridRun, 'strategy' | 'point'>): string {
  const label = pointLabel(run.point);
  return label ? `${run.strategy} ${Object.entries(run.point).map(([k, v]) => `${k}=${v}`).join(' ')}` : run.strategy;
}
