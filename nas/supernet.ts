/**
 * The supernet (DARTS model_search.py Network): stem (3x3 conv + BN) -> cells with reductions at 1/3
 * and 2/3 of the depth -> global average pooling -> linear classifier. Every edge of every cell holds
 * all the candidates (MixedOp). All normal cells share one architecture and all reduction cells
 * another, as in DARTS. The Child supernet has 1-bit convolutions inside its cells; the stem and the
 * classifier stay full precision in both.
 */
import { CpnasError, type Random, Tensor } from '../core/index.js';
import { BatchNorm2d, Conv2d, Linear } from '../ops/layers.js';
import { Module } from '../ops/module.js';
import { globalAvgPool2d } from '../ops/pool.js';
import { SearchCell, type CellChoice } from './cell.js';
import { allEdgeKeys, edgeKey, cellEdges } from './genotype.js';
import type { BinarizerSettings, CellType, ChildBlock, EdgeKey } from './types.js';

export interface NetworkConfig {
  /** Channels of the input images (1 for digits, 3 for CIFAR). */
  inputChannels: number;
  numClasses: number;
  /** Number of cells. */
  cells: number;
  /** Channels of the first cells' nodes. */
  channels: number;
  nodes: number;
  /** The stem has stemMultiplier * channels output channels (3 in DARTS). */
  stemMultiplier?: number;
  /** 1-bit convolutions in the cells (the Child) or full precision (the Parent). */
  binary: boolean;
  binarizers: BinarizerSettings;
  /** The Child's form (units.ts; default DEFAULT_CHILD_BLOCK); ignored for the Parent. */
  childBlock?: ChildBlock;
  /** PC-DARTS K: every edge's candidates see 1/K of the channels (default 1: all of them). */
  partialChannels?: number;
  rng?: Random;
}

/** Indices of the reduction cells: layers // 3 and 2 * layers // 3, as in DARTS. */
export function reductionCells(cells: number): Set<number> {
  return new Set([Math.floor(cells / 3), Math.floor((2 * cells) / 3)]);
}

/** The architecture of both cell types as run by a supernet. */
export interface SupernetChoice {
  normal: CellChoice;
  reduce: CellChoice;
}

export class Supernet extends Module {
  stem: Conv2d;
  stemBn: BatchNorm2d;
  cells: SearchCell[];
  classifier: Linear;
  readonly primitives: readonly string[];
  readonly config: NetworkConfig;

  constructor(config: NetworkConfig, primitives: readonly string[]) {
    super();
    this.config = config;
    this.primitives = [...primitives];
    const { channels: C, nodes, rng } = config;
    const o = { binary: config.binary, affine: false, binarizers: config.binarizers, childBlock: config.childBlock, rng };
    const stemC = (config.stemMultiplier ?? 3) * C;
    this.stem = new Conv2d(config.inputChannels, stemC, 3, { padding: 1, rng });
    this.stemBn = new BatchNorm2d(stemC);
    const reductions = reductionCells(config.cells);
    let Cpp = stemC, Cp = stemC, Ccur = C, reductionPrev = false;
    this.cells = [];
    for (let i = 0; i < config.cells; i++) {
      const reduction = reductions.has(i);
      if (reduction) Ccur *= 2;
      const cell = new SearchCell({ nodes, Cpp, Cp, C: Ccur, reduction, reductionPrev, partialChannels: config.partialChannels }, primitives, o);
      this.cells.push(cell);
      reductionPrev = reduction;
      Cpp = Cp;
      Cp = cell.outChannels;
    }
    this.classifier = new Linear(Cp, config.numClasses, true, rng ?? undefined);
  }

  /** Pooled features of the last cell [N, C] and the logits [N, classes]. */
  forwardFeatures(x: Tensor, choice: SupernetChoice): { features: Tensor; logits: Tensor } {
    let s0 = this.stemBn.forward(this.stem.forward(x));
    let s1 = s0;
    for (const cell of this.cells) {
      const s2 = cell.forward(s0, s1, cell.reduction ? choice.reduce : choice.normal);
      s0 = s1;
      s1 = s2;
    }
    const features = globalAvgPool2d(s1);
    return { features, logits: this.classifier.forward(features) };
  }

  forward(x: Tensor, choice: SupernetChoice): Tensor {
    return this.forwardFeatures(x, choice).logits;
  }

  /** The choice that runs one operation per edge: `architecture` maps every edge key to an operation name. */
  choiceOf(architecture: { [edge: EdgeKey]: string }): SupernetChoice {
    const pick = (cell: CellType): CellChoice => {
      const edges = cellEdges(this.config.nodes);
      const ops = new Int32Array(edges.length);
      edges.forEach(({ from, to }, e) => {
        const key = edgeKey(cell, from, to);
        const op = architecture[key];
        const k = this.primitives.indexOf(op);
        if (k < 0) throw new CpnasError('supernet', `edge ${key}: operation ${JSON.stringify(op)} is not among the searched primitives (${this.primitives.join(', ')})`);
        ops[e] = k;
      });
      return { ops };
    };
    return { normal: pick('normal'), reduce: pick('reduce') };
  }

  /** Every edge key of the search space (normal cell's, then reduction cell's). */
  edgeKeys(): EdgeKey[] {
    return allEdgeKeys(this.config.nodes);
  }
}

/** The choice that mixes every candidate by softmax weights (darts): weights [edges, K] per cell type. */
export function mixedChoice(normal: Tensor, reduce: Tensor, edgeWeights?: { normal: Tensor; reduce: Tensor }): SupernetChoice {
  return { normal: { weights: normal, edgeWeights: edgeWeights?.normal }, reduce: { weights: reduce, edgeWeights: edgeWeights?.reduce } };
}
