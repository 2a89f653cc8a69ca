/**
 * The strategies by name. A new strategy is one file exporting a `Strategy` and one line here (or a
 * `registerStrategy` call from user code).
 */
import { CpnasError } from '../../core/index.js';
import { bnasStrategy } from './bnas.js';
import type { Strategy } from './context.js';
import { cpChildStrategy } from './cp-child.js';
import { cpStrategy } from './cp.js';
import { dartsStrategy } from './darts.js';
import { pcDartsStrategy } from './pc-darts.js';
import { dcpStrategy } from './dcp.js';
import { dnaStrategy } from './dna.js';
import { randomStrategy } from './random.js';

const strategies = new Map<string, Strategy>([
  ['cp', cpStrategy],
  ['cp-child', cpChildStrategy],
  ['bnas', bnasStrategy],
  ['pc-darts', pcDartsStrategy],
  ['darts', dartsStrategy],
  ['random', randomStrategy],
  ['dcp', dcpStrategy],
  ['dna', dnaStrategy],
]);

export function registerStrategy(name: string, strategy: Strategy): void {
  strategies.set(name, strategy);
}

export function getStrategy(name: string): Strategy {
  const s = strategies.get(name);
  if (!s) throw new CpnasError('search', `unknown strategy "${name}" (known: ${[...strategies.keys()].join(', ')})`);
  return s;
}

export function listStrategies(): string[] {
  return [...strategies.keys()];
}

export type { SearchContext, Strategy, StrategyResult } from './context.js';
