/**
 * The published cells, by name, as DARTS's `genotypes.py` ships them (Liu et al., "DARTS:
 * Differentiable Architecture Search", 2019, cnn/genotypes.py: DARTS_V1, DARTS_V2 and DARTS = V2), with
 * PC-DARTS's CIFAR-10 cell (Xu et al., 2020, genotypes.py PC_DARTS_cifar) and P-DARTS's (Chen et al.,
 * 2019, genotypes.py PDARTS). NASNet and AmoebaNet are left out: they use operations this search space
 * does not register (sep_conv_7x7, conv_7x1_1x7) and 5 intermediate nodes.
 *
 * `cpnas train --genotype darts_v2` and the benchmarks take them by name; `namedGenotype` hands out a
 * validated copy (the operations must be registered).
 */
import { CpnasError } from '../core/index.js';
import { validateGenotype } from './genotype.js';
import type { Genotype } from './types.js';

type Pairs = [string, number][];

const DARTS_V1: Genotype = {
  normal: [['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['skip_connect', 0], ['sep_conv_3x3', 1],
    ['skip_connect', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['skip_connect', 2]] as Pairs,
  normalConcat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 0],
    ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['avg_pool_3x3', 0]] as Pairs,
  reduceConcat: [2, 3, 4, 5],
};

const DARTS_V2: Genotype = {
  normal: [['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 1], ['skip_connect', 0], ['skip_connect', 0], ['dil_conv_3x3', 2]] as Pairs,
  normalConcat: [2, 3, 4, 5],
  reduce: [['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 1],
    ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['max_pool_3x3', 1]] as Pairs,
  reduceConcat: [2, 3, 4, 5],
};

const PC_DARTS: Genotype = {
  normal: [['sep_conv_3x3', 1], ['skip_connect', 0], ['sep_conv_3x3', 0], ['dil_conv_3x3', 1],
    ['sep_conv_5x5', 0], ['sep_conv_3x3', 1], ['avg_pool_3x3', 0], ['dil_conv_3x3', 1]] as Pairs,
  normalConcat: [2, 3, 4, 5],
  reduce: [['sep_conv_5x5', 1], ['max_pool_3x3', 0], ['sep_conv_5x5', 1], ['sep_conv_5x5', 2],
    ['sep_conv_3x3', 0], ['sep_conv_3x3', 3], ['sep_conv_3x3', 1], ['sep_conv_3x3', 2]] as Pairs,
  reduceConcat: [2, 3, 4, 5],
};

const PDARTS: Genotype = {
  normal: [['skip_connect', 0], ['dil_conv_3x3', 1], ['skip_connect', 0], ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 1], ['sep_conv_3x3', 3], ['sep_conv_3x3', 0], ['dil_conv_5x5', 4]] as Pairs,
  normalConcat: [2, 3, 4, 5],
  reduce: [['avg_pool_3x3', 0], ['sep_conv_5x5', 1], ['sep_conv_3x3', 0], ['dil_conv_5x5', 2],
    ['max_pool_3x3', 0], ['dil_conv_3x3', 1], ['dil_conv_3x3', 1], ['dil_conv_5x5', 3]] as Pairs,
  reduceConcat: [2, 3, 4, 5],
};

/** Every named genotype; `darts` is DARTS_V2, as in DARTS's genotypes.py. */
const NAMED: Readonly<Record<string, Genotype>> = {
  darts_v1: DARTS_V1,
  darts_v2: DARTS_V2,
  darts: DARTS_V2,
  pc_darts: PC_DARTS,
  pdarts: PDARTS,
};

/** The names `namedGenotype` knows. */
export function listNamedGenotypes(): string[] {
  return Object.keys(NAMED);
}

export function isNamedGenotype(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(NAMED, name);
}

/** A validated copy of the published genotype `name` (e.g. "darts_v2"). */
export function namedGenotype(name: string): Genotype {
  if (!isNamedGenotype(name)) {
    throw new CpnasError('genotype', `no genotype named "${name}" (named genotypes: ${listNamedGenotypes().join(', ')})`);
  }
  return validateGenotype(NAMED[name]);
}
