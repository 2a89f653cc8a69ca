/**
 * The network built from a genotype for the training stage (DARTS model.py NetworkCIFAR, without the
 * auxiliary head): stem -> cells (each node the sum of its 2 chosen operations) -> global average pool
 * -> linear. `binary: true` gives the Child (every conv inside the cells 1-bit), `false` the Parent;
 * both have the same layers under the same names, so their convolutions pair by position.
 */
import type { Random, Tensor } from '../core/index.js';
import { CpnasError } from '../core/index.js';
import { add } from '../ops/arithmetic.js';
import { dropPath } from '../ops/dropout.js';
import { BatchNorm2d, Conv2d, Identity, Linear } from '../ops/layers.js';
import { Module } from '../ops/module.js';
import { globalAvgPool2d } from '../ops/pool.js';
import { concat } from '../ops/shape.js';
import { makePreprocess, type CellShape } from './cell.js';
import { genotypeEdges, validateGenotype } from './genotype.js';
import { createOperation, type OperationOptions } from './operations.js';
import type { UnaryModule } from './primitives.js';
import { reductionCells, type NetworkConfig } from './supernet.js';
import type { Genotype } from './types.js';


export class GenotypeCell extends Module {
  preprocess0: UnaryModule;
  preprocess1: UnaryModule;
  /** The 2 operations of every intermediate node, in genotype order. */
  ops: UnaryModule[];
  readonly inputs: number[];
  readonly concatNodes: number[];
  readonly reduction: boolean;
  readonly outChannels: number;

  constructor(genotype: Genotype, shape: Omit<CellShape, 'nodes'>, o: OperationOptions) {
    super();
    [this.preprocess0, this.preprocess1] = makePreprocess({ ...shape, nodes: 0 }, o);
    this.reduction = shape.reduction;
    const edges = genotypeEdges(genotype, shape.reduction ? 'reduce' : 'normal');
    this.ops = edges.map(({ op, from }) => createOperation(op, shape.C, shape.reduction && from < 2 ? 2 : 1, o) as UnaryModule);
    this.inputs = edges.map((e) => e.from);
    this.concatNodes = [...(shape.reduction ? genotype.reduceConcat : genotype.normalConcat)];
    this.outChannels = this.concatNodes.length * shape.C;
  }

  /** `dropProb` > 0 in training drops whole paths (samples) of non-identity operations, as DARTS does. */
  forward(s0: Tensor, s1: Tensor, dropProb = 0, rng?: Random): Tensor {
    const states: Tensor[] = [this.preprocess0.forward(s0), this.preprocess1.forward(s1)];
    for (let i = 0; i < this.ops.length; i += 2) {
      const h = [0, 1].map((j) => {
        const op = this.ops[i + j];
        let y = op.forward(states[this.inputs[i + j]]);
        if (dropProb > 0 && this.training && !(op instanceof Identity)) y = dropPath(y, dropProb, true, rng);
        return y;
      });
      states.push(add(h[0], h[1]));
    }
    return concat(this.concatNodes.map((n) => states[n]), 1);
  }
}

export class GenotypeNetwork extends Module {
  stem: Conv2d;
  stemBn: BatchNorm2d;
  cells: GenotypeCell[];
  classifier: Linear;
  readonly genotype: Genotype;
  readonly config: NetworkConfig;
  /** Drop-path probability (set by the trainer, e.g. growing with the epochs). */
  dropPathProb = 0;
  /** Where drop-path masks come from. */
  dropRng?: Random;

  constructor(genotype: Genotype, config: NetworkConfig) {
    super();
    this.genotype = validateGenotype(genotype);
    this.config = config;
    for (const k of ['cells', 'channels', 'inputChannels', 'numClasses'] as const) {
      const v = config[k];
      if (!Number.isInteger(v) || v < 1) throw new CpnasError('GenotypeNetwork', `config.${k} must be an integer >= 1, got ${JSON.stringify(v)}`);
    }
    const nodes = this.genotype.normal.length / 2;
    if (config.nodes !== undefined && config.nodes !== nodes) {
      throw new CpnasError('GenotypeNetwork', `config.nodes is ${config.nodes} but the genotype's cells have ${nodes} intermediate nodes`);
    }
    const { channels: C, rng } = config;
    const o: OperationOptions = { binary: config.binary, affine: true, binarizers: config.binarizers, childBlock: config.childBlock, rng };
    const stemC = (config.stemMultiplier ?? 3) * C;
    this.stem = new Conv2d(config.inputChannels, stemC, 3, { padding: 1, rng });
    this.stemBn = new BatchNorm2d(stemC);
    const reductions = reductionCells(config.cells);
    let Cpp = stemC, Cp = stemC, Ccur = C, reductionPrev = false;
    this.cells = [];
    for (let i = 0; i < config.cells; i++) {
      const reduction = reductions.has(i);
      if (reduction) Ccur *= 2;
      const cell = new GenotypeCell(this.genotype, { Cpp, Cp, C: Ccur, reduction, reductionPrev }, o);
      this.cells.push(cell);
      reductionPrev = reduction;
      Cpp = Cp;
      Cp = cell.outChannels;
    }
    this.classifier = new Linear(Cp, config.numClasses, true, rng ?? undefined);
  }

  /** Pooled features of the last cell [N, C] (the center loss's f_s) and the logits. */
  forwardFeatures(x: Tensor): { features: Tensor; logits: Tensor } {
    let s0 = this.stemBn.forward(this.stem.forward(x));
    let s1 = s0;
    for (const cell of this.cells) {
      const s2 = cell.forward(s0, s1, this.dropPathProb, this.dropRng);
      s0 = s1;
      s1 = s2;
    }
    const features = globalAvgPool2d(s1);
    return { features, logits: this.classifier.forward(features) };
  }

  forward(x: Tensor): Tensor {
    return this.forwardFeatures(x).logits;
  }
}
