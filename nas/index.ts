/** CP-NAS: the search space, the strategies, the training stage and the run folder. */
export * from './types.js';
export * from './operations.js';
export { BUILTIN_OPERATIONS, DilConv, FactorizedReduce, Pool, ReLUConvBN, SepConv, Zero } from './primitives.js';
export {
  BiRealUnit, CHILD_BLOCKS, DEFAULT_CHILD_BLOCK, PaperUnit, ParentUnit, Unit, makeConv, makeUnit, shortcut,
  type ConvDecl, type ConvSpec, type PrimitiveOptions, type UnaryModule, type UnitOptions,
} from './units.js';
export { distillationLoss } from './distill.js';
export { MixedOp } from './mixed-op.js';
export { SearchCell } from './cell.js';
export { Supernet, mixedChoice, reductionCells, type NetworkConfig, type SupernetChoice } from './supernet.js';
export { GenotypeCell, GenotypeNetwork } from './network.js';
export {
  allEdgeKeys, cellEdges, deriveGenotype, edgeKey, formatGenotype, genotypeToJSON, parseEdgeKey, parseGenotype,
  validateGenotype,
} from './genotype.js';
export { isNamedGenotype, listNamedGenotypes, namedGenotype } from './named-genotypes.js';
export { CpIndicator, cpCredit, edgeSoftmax } from './indicator.js';
export { drawOrders, architectureAt } from './sampling.js';
export { getStrategy, listStrategies, registerStrategy } from './strategies/index.js';
export { randomGenotype } from './strategies/random.js';
export { runSearch } from './search.js';
export { runTraining } from './train.js';
export { loadModel, runEvaluation } from './evaluate.js';
export { defaultSearchSettings, defaultTrainSettings, resolveSearchSettings, resolveTrainSettings } from './settings.js';
export { appendJsonl, readJson, readJsonl, writeFileAtomic, writeJsonAtomic } from './io.js';
export { RunContext, dataFingerprint, withRunContext, type RunContextOptions } from './run-context.js';
export { CheckpointStore, type LoadedCheckpoint } from './checkpoint.js';
export { HistoryLog, historyChecksum, type HistoryMark } from './history.js';
export {
  SlotPart, absentPart, arrayPart, jsonPart, loadParts, modulePart, optimizerPart, optionalPart, rngPart, saveParts, schedulePart,
  type Part, type Parts,
} from './state-parts.js';
export { checkGradients, checkLoss, checkModule, firstNonFinite, type HealthWhere } from './health.js';
export { tangentStep, combineTangent, type TangentStep, type TangentStepOptions } from './tangent.js';
export { DecoupledBacktrack, rankMask } from './decoupled.js';
export { blockLosses, blockStates, featureLoss, forwardBlock, networkBlocks } from './blocks.js';
export {
  CostTable, bestGenotype, budgetOf, budgetedGenotype, checkBudgetFeasible, smallestCost, unfitOperations,
  type Budget, type BudgetNetwork, type GenotypeCost,
} from './budget.js';
