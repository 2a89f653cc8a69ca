/**
 * The data of a CP-NAS run: settings, genotypes, history records, progress events and results.
 * Plain types (and the run folder's file names), so that the CLI and the reports can be written
 * against them while the engine changes. Defaults live in `nas/settings.ts`; the functions the CLI
 * calls live in `nas/run.ts`.
 *
 * Names follow the paper: the Child is the 1-bit network, the Parent its full-precision twin, the
 * indicator ranks the operations of every edge, and the worst one is abandoned round after round.
 */

// ---- search space -------------------------------------------------------------------------------

/** The two kinds of cell: a normal cell keeps the resolution, a reduction cell halves it. */
export type CellType = 'normal' | 'reduce';

/**
 * An edge of a cell, written `"normal:0-2"`: cell type, then the source node and the target node.
 * Nodes 0 and 1 are the cell's two inputs (the outputs of the two previous cells); 2..5 are the four
 * intermediate nodes, so a cell has the 14 edges 0-2, 1-2, 0-3, 1-3, 2-3, ..., 4-5.
 * `edgeKey` / `parseEdgeKey` in nas/genotype.ts build and read them.
 */
export type EdgeKey = string;

/** Per edge, per operation name: a number (an indicator value, a softmax weight, a credit). */
export type EdgeOpValues = { [edge: EdgeKey]: { [op: string]: number } };

/**
 * A cell architecture as in DARTS `genotypes.py`: for each intermediate node, in order, its 2 incoming
 * edges as `[operation, fromNode]` (fromNode 0 and 1 are the cell inputs, k >= 2 the intermediate node
 * k); `normalConcat` / `reduceConcat` list the nodes concatenated to form the output (normally
 * [2, 3, 4, 5]). `none` is never allowed. Validated by `validateGenotype` in nas/genotype.ts.
 */
export interface Genotype {
  normal: [string, number][];
  normalConcat: number[];
  reduce: [string, number][];
  reduceConcat: number[];
}

// ---- settings -----------------------------------------------------------------------------------

/**
 * The built-in strategies: `cp` (CP-NAS), `cp-child` (the CP engine with a Child-only indicator, no
 * Parent), `bnas` (BNAS: partial channels + performance-based abandonment on a differentiable search),
 * `pc-darts`, `darts`, `random`, and the CP-NAS family's `dcp` (DCP-NAS) and `dna` (block-wise supervision
 * by the Parent). A strategy registered from user code may use any other name.
 */
export type StrategyName = 'cp' | 'cp-child' | 'bnas' | 'pc-darts' | 'darts' | 'random' | 'dcp' | 'dna';

/**
 * The form of the 1-bit Child (nas/units.ts): `paper` = the Parent's operations with every cell
 * convolution 1-bit and nothing added (the CP-NAS Child); `bireal` = a BN and a real-valued shortcut
 * around every 1-bit convolution (Bi-Real Net).
 */
export type ChildBlock = 'paper' | 'bireal';

/** Names of the binarizers of binary/binarizers.ts. */
export interface BinarizerSettings {
  /** Activation binarizer: sign forward, its estimator backward ('approx' = Bi-Real polynomial, 'ste' = clipped identity). */
  activation: string;
  /** Weight binarizer ('scaled' = alpha * sign(w), one alpha per output filter; 'sign' = no scale). */
  weight: string;
}

export interface SearchSettings {
  strategy: StrategyName;
  /** Number of cells of the supernet (reductions at 1/3 and 2/3 of the depth). */
  cells: number;
  /** Channels C of the first cells (doubled at every reduction). */
  channels: number;
  /** Intermediate nodes per cell (4 in DARTS / CP-NAS). */
  nodes: number;
  /** Images are resized to imageSize x imageSize (by the data loader). */
  imageSize: number;
  batchSize: number;
  /** Operations searched on every edge (default: every registered operation, `none` included). */
  primitives: string[];

  // -- cp / bnas
  /** Rounds of sampling per abandonment (the T of the paper). */
  T: number;
  /** beta_P of eq. 4.15: z = beta * (A_P - A_C) + A_C. 0 = Child alone (bnas). */
  beta: number;
  /** Fraction of an epoch of the search-train split that each sampled architecture is trained for. */
  sampleFraction: number;
  /** Fraction of the search-validation split used to measure A_C and A_P (1 = all of it). */
  valFraction: number;
  /** Stop abandoning when this many operations are left per edge (1 in the paper). */
  keepOps: number;
  /**
   * What happens to `none` (a genotype cannot hold it): 'abandon' = when an edge is down to `none` and
   * one other operation, `none` is abandoned whatever the indicator says; 'rank' = `none` is ranked
   * like every operation, and an edge that ends on `none` carries nothing in the genotype (each node
   * must still keep 2 edges with an operation, or the derivation fails and says so).
   */
  noneRule: 'abandon' | 'rank';

  // -- supernet weight training (all strategies that train)
  /** Initial learning rate of the supernet weights. */
  lr: number;
  /** 'cosine': annealed from lr to lrMin over the search (DARTS); 'constant': lr throughout. */
  lrSchedule: 'cosine' | 'constant';
  /** Final learning rate of the cosine schedule (DARTS learning_rate_min = 0.001). */
  lrMin: number;
  momentum: number;
  weightDecay: number;
  /** Max global gradient norm (0 = no clipping). */
  gradClip: number;
  /** Optimizer of the supernet weights. */
  optimizer: 'sgd' | 'adam';

  // -- darts
  /** Epochs of the differentiable search (each epoch = one pass over sampleFraction of search-train). */
  dartsEpochs: number;
  /** Learning rate of the architecture parameters alpha (Adam). */
  archLr: number;
  archWeightDecay: number;
  /** Second-order DARTS (finite-difference Hessian-vector product) instead of first order. */
  secondOrder: boolean;
  /** Which network the darts strategy searches: the 1-bit Child (default) or the full-precision Parent. */
  dartsNetwork: 'child' | 'parent';

  // -- pc-darts / bnas
  /** PC-DARTS K: each mixed operation sees 1/K of its edge's channels (4 in the paper); must divide the channels. */
  partialChannels: number;
  /** Weight-only epochs before the architecture steps start (PC-DARTS: 15 of 50); counted within dartsEpochs for pc-darts. */
  warmupEpochs: number;
  /** bnas: weight of the exploration term of the UCB score m + c * sqrt(2 ln N / n) (0 = mean accuracy alone, the AAAI version). */
  bnasUcb: number;
  // -- dcp (DCP-NAS; nas/strategies/dcp.ts). Epochs, steps, alpha's learning rate and weight decay are darts'.
  /** lambda of eq. 4.32: weight of the discrepancy D = ||dG/d alpha-hat - dF_P/d alpha||^2 (0 = no tangent term). */
  dcpLambda: number;
  /** Weight of KL(p_Parent || p_Child) in the Child's objective G = CE + dcpKl * KL. */
  dcpKl: number;
  /** mu of eq. 4.32: weight of the reconstruction error sum ||w - beta sign(w)||^2 of the Child's binary weights. */
  dcpMu: number;
  /** S: groups of the batch whose gradients form the empirical Fisher (eqs. 4.36-4.41). */
  dcpFisherGroups: number;
  /** tau of eq. 4.52: operations ranked above tau by weight norm are backtracked (0..primitives). */
  dcpTau: number;
  /** eta_psi of eq. 4.51 (0 = no decoupled backtracking). */
  dcpPsiLr: number;

  // -- dna (block-wise supervision by the Parent; nas/strategies/dna.ts)
  /** Epochs (fractions allowed, of sampleFraction-sized epochs) training the Parent teacher supernet. */
  dnaTeacherEpochs: number;
  /** Epochs training each block of the Child supernet against the teacher's block output. */
  dnaBlockEpochs: number;
  /** Repetitions of the rating: each repetition rates K paths per block, every operation once per edge. */
  dnaRepeats: number;

  // -- budget (every strategy): measured with countOps on the final Child network
  /** Most OPs (BOPs / 64 + FLOPs) of the final Child; 0 = no bound. */
  maxOps: number;
  /** Most bytes of the final Child; 0 = no bound. */
  maxBytes: number;
  /** Cells and channels of the network the budget is measured on (the training stage's; 0 = the search's). */
  budgetCells: number;
  budgetChannels: number;

  binarizers: BinarizerSettings;
  /** The form of the 1-bit Child supernet. */
  childBlock: ChildBlock;
  seed: number;
}

export interface TrainSettings {
  /** Cells and channels of the final network (usually the same as, or larger than, the search's). */
  cells: number;
  channels: number;
  imageSize: number;
  batchSize: number;
  /** Epochs of Parent training, then of Child training (fractions allowed: 0.5 = half an epoch). */
  parentEpochs: number;
  childEpochs: number;
  /** Initial learning rates (cosine annealing to lrMin over the epochs). */
  parentLr: number;
  childLr: number;
  lrMin: number;
  momentum: number;
  weightDecay: number;
  optimizer: 'sgd' | 'adam';
  gradClip: number;
  /** Weight of the kernel-level CP loss: (lambda / 2) * sum MSE(H, H^). */
  lambda: number;
  /** Weight of the center loss: (theta / 2) * sum ||f_s - f_bar_y||^2. */
  theta: number;
  /**
   * Weight of the Parent-to-Child distillation term T^2 * KL(softmax(z_P/T) || softmax(z_C/T)) added to
   * the Child's loss (the Child-Parent KL of DCP-NAS; 0 = off, the plain CP-NAS loss).
   */
  kd: number;
  /** Temperature T of the distillation term. */
  kdTemperature: number;
  /**
   * Fraction of the Child's training steps, at the end, run with BatchNorm statistics frozen (eval-mode
   * BN), so the 1-bit network is fine-tuned with the statistics it runs with at inference (0 = off).
   */
  freezeBnFraction: number;
  /**
   * Shards per batch (1 or 2): with 2, each batch is cut in two halves whose gradients are averaged,
   * the second half running on a worker thread when one can be started (else after the first, with the
   * same numbers). BatchNorm then uses each half's statistics. Results depend on this setting, not on
   * whether a thread was available.
   */
  shards: number;
  /** Drop-path probability on the cells' edges (0 = off). */
  dropPath: number;
  /** Random crops / flips on the training images (as the dataset supports). */
  augment: boolean;
  /** The Child starts from the trained Parent's weights ('parent', the usual two-step BNN recipe) or from scratch. */
  childInit: 'parent' | 'scratch';
  binarizers: BinarizerSettings;
  /** The form of the 1-bit Child network. */
  childBlock: ChildBlock;
  seed: number;
}

// ---- history (history.jsonl, one record per line) ----------------------------------------------

/** After every round of cp / bnas: the indicator of every edge and the operation each abandoned. */
export interface RoundRecord {
  type: 'round';
  strategy: StrategyName;
  /** 1-based round number. */
  round: number;
  /** Number of operations per edge during this round (before the abandonment). */
  K: number;
  /** e(o_k) of eq. 4.16 for every edge and every operation still on it this round. */
  indicator: EdgeOpValues;
  /** Mean credit z-bar of every (edge, op) this round (the values under the softmax). */
  meanCredit: EdgeOpValues;
  /** The operation abandoned on every edge. */
  abandoned: { [edge: EdgeKey]: string };
  /** Operations left on every edge after the abandonment. */
  remaining: { [edge: EdgeKey]: string[] };
  /** Wall time of the round. */
  seconds: number;
}

/** One sampled architecture of cp / bnas: its Child / Parent validation accuracies and its credit. */
export interface SampleRecord {
  type: 'sample';
  strategy: StrategyName;
  round: number;
  /** 1-based repetition t in 1..T. */
  t: number;
  /** 1-based position e in 1..K within repetition t. */
  e: number;
  /** The operation it used on every edge. */
  ops: { [edge: EdgeKey]: string };
  /** Validation accuracies in [0, 1]; A_P is null for bnas (no Parent). */
  A_C: number;
  A_P: number | null;
  /** z = beta * (A_P - A_C) + A_C. */
  z: number;
  /** Mean training losses during the sample's training. */
  childLoss: number;
  parentLoss: number | null;
  seconds: number;
}

/** One epoch of darts search, Parent training or Child training. */
export interface EpochRecord {
  type: 'epoch';
  phase: 'search' | 'parent' | 'child';
  /** 1-based. */
  epoch: number;
  loss: number;
  trainAccuracy: number;
  /** Accuracy on the validation split (search-val in darts, test split in training when no val). */
  valAccuracy: number;
  lr: number;
  seconds: number;
  /** Loss terms of Child training: cross-entropy, CP loss, center loss, distillation (0 when off). */
  terms?: { ce: number; cp: number; center: number; kd?: number };
}

/** darts / pc-darts / bnas: softmax(alpha) of every edge after an epoch. */
export interface ArchWeightsRecord {
  type: 'alpha';
  strategy: StrategyName;
  epoch: number;
  weights: EdgeOpValues;
  /** pc-darts / bnas: the edge-normalization weight softmax(beta) of every edge (PC-DARTS eq. 3). */
  edgeWeights?: { [edge: EdgeKey]: number };
}

/**
 * Edges of equal strength competing for the last of a node's 2 places: the derivation cannot tell
 * them apart, so it reports them (and breaks the tie with a seeded draw, never by node order).
 */
export interface GenotypeTie {
  cell: CellType;
  /** The intermediate node whose inputs were tied. */
  node: number;
  strength: number;
  /** Input nodes of the tied edges, and those of them the draw chose. */
  tied: number[];
  chosen: number[];
}

/** The derived genotype (last record of a search). */
export interface GenotypeRecord {
  type: 'genotype';
  strategy: StrategyName;
  genotype: Genotype;
  /** Final strength of every edge's kept operation (indicator, alpha weight; 1 for random). */
  strength: { [edge: EdgeKey]: number };
  /** Places that edges of equal strength competed for (decided by a seeded draw); absent or empty: none. */
  ties?: GenotypeTie[];
  searchSeconds: number;
}

/** dcp: one architecture step of the Parent or of the Child (the curves of the report). */
export interface DcpStepRecord {
  type: 'dcp';
  phase: 'parent' | 'child';
  /** 1-based epoch and step within the epoch. */
  epoch: number;
  step: number;
  /** Cross-entropy of the network being stepped, on the validation batch. */
  ce: number;
  /** KL(p_Parent || p_Child) on the validation batch (child steps; 0 for the Parent). */
  kl: number;
  /** D = ||dG/d alpha-hat - t||^2 (eq. 4.31; child steps; 0 for the Parent). */
  discrepancy: number;
  /** Mean psi~ of the decoupled backtracking. */
  psi: number;
}

/** dna: the training of one block of the Child supernet (mean relative feature loss per epoch). */
export interface DnaBlockRecord {
  type: 'dna-block';
  /** 0-based block and the cells it holds. */
  block: number;
  cells: number[];
  /** Mean feature loss (MSE of the standardized block outputs) of the sampled paths, per training epoch. */
  losses: number[];
  seconds: number;
}

/** dna: the rating of one block: every rated path's loss and every (edge, op)'s mean. */
export interface DnaRatingRecord {
  type: 'dna-rating';
  block: number;
  /** The validation loss of every rated path. */
  paths: { ops: { [edge: EdgeKey]: string }; loss: number }[];
  /** Mean loss of the paths that used each (edge, op) (lower is better). */
  ratings: EdgeOpValues;
}

/** The budget of a search and where its genotype stands. */
export interface BudgetRecord {
  type: 'budget';
  maxOps: number | null;
  maxBytes: number | null;
  /** OPs and bytes of the genotype's final Child. */
  ops: number;
  bytes: number;
  /** Operations left out of the search because they fit nowhere. */
  excluded: string[];
  /** True when the strategy's own genotype was over the budget and was re-derived under it. */
  rederived: boolean;
  /** Whether the budgeted derivation proved its genotype optimal (null when none was needed). */
  optimal: boolean | null;
}

export type HistoryRecord = RoundRecord | SampleRecord | EpochRecord | ArchWeightsRecord | GenotypeRecord
  | DcpStepRecord | DnaBlockRecord | DnaRatingRecord | BudgetRecord;

// ---- progress ----------------------------------------------------------------------------------

export type ProgressPhase = 'search' | 'parent' | 'child' | 'evaluate';

/**
 * Passed to `onProgress` many times per phase. `done` / `total` count the phase's work units
 * (sampled architectures for cp / bnas, batches for darts and training). A callback may throw to stop
 * the run (the last checkpoint stays valid and `resume` continues from it).
 */
export interface ProgressEvent {
  phase: ProgressPhase;
  done: number;
  total: number;
  /** A short human line: "round 2/7 · sample 3/6 · t 1/2". */
  label: string;
  /** Latest numbers (loss, accuracy, A_C, A_P, z, lr, ...). */
  metrics?: { [name: string]: number };
  /** Set on the event sent right after a checkpoint was written (end of a sample, round or epoch). */
  checkpoint?: boolean;
  /** Set on that event too: what was checkpointed ('sample', 'round', 'epoch'). */
  unit?: 'sample' | 'round' | 'epoch';
  /** The 1-based round of cp / bnas (or epoch of darts / training) this event belongs to. */
  round?: number;
}

export type ProgressCallback = (event: ProgressEvent) => void;
export type LogCallback = (line: string) => void;

// ---- datasets, as the engine uses them ----------------------------------------------------------

/** One mini-batch: images [N, C, H, W] and their labels. */
export interface Batch {
  x: import('../core/index.js').Tensor;
  y: Int32Array;
}

/** The part of data/'s Dataset the engine needs (structural, so nas/ does not depend on data/'s file layout). */
export interface NasDataset {
  readonly length: number;
  /** [C, H, W] of one image. */
  readonly shape: readonly number[];
  readonly classNames: readonly string[];
  batches(batchSize: number, opts?: { shuffle?: boolean; rng?: import('../core/index.js').Random; augment?: boolean; dropLast?: boolean }): Iterable<Batch>;
  subset(indices: ArrayLike<number>): NasDataset;
}

// ---- the CLI-facing functions (nas/run.ts) -----------------------------------------------------

export interface RunSearchOptions {
  /** Missing fields take their defaults (nas/settings.ts). */
  settings: Partial<SearchSettings>;
  data: { searchTrain: NasDataset; searchVal: NasDataset };
  /** The run folder: genotype.json, history.jsonl, checkpoints/ go here. */
  outDir: string;
  /** Continue from outDir's checkpoint (same settings) instead of starting over. */
  resume?: boolean;
  onProgress?: ProgressCallback;
  log?: LogCallback;
  /** Stop cleanly (after the current unit's checkpoint) when aborted; the run throws an AbortError-like CpnasError. */
  signal?: AbortSignal;
}

export interface SearchOutcome {
  genotype: Genotype;
  history: HistoryRecord[];
  searchSeconds: number;
}

export interface RunTrainingOptions {
  genotype: Genotype;
  /** Missing fields take their defaults (nas/settings.ts). */
  settings: Partial<TrainSettings>;
  /** val is optional: without it, per-epoch valAccuracy is measured on test. */
  data: { train: NasDataset; val?: NasDataset; test: NasDataset };
  outDir: string;
  resume?: boolean;
  onProgress?: ProgressCallback;
  log?: LogCallback;
  signal?: AbortSignal;
  /** Search time to carry into the result (from runSearch). */
  searchSeconds?: number;
  /** The search settings, to store in the result beside the train settings. */
  searchSettings?: SearchSettings;
  /** Name of the dataset, for the result. */
  dataset?: string;
  /** 1: never start a worker thread (the second shard then runs in this thread, same numbers). */
  threads?: number;
}

/** Costs of one network (binary/ counting conventions: OPs = BOPs / 64 + FLOPs). */
export interface NetworkCost {
  /** Full-precision parameters (stem, classifier, BN, and every conv of the Parent). */
  fpParams: number;
  /** 1-bit parameters (the binary convs of the Child's cells; 0 for the Parent). */
  binaryParams: number;
  bops: number;
  flops: number;
  ops: number;
  /** Model size: 32 bits per fp parameter + 1 bit per binary parameter (+ one fp alpha per filter). */
  sizeBytes: number;
}

export interface ModelReport extends NetworkCost {
  testAccuracy: number;
  /** Final training loss and accuracy. */
  trainLoss: number;
  trainAccuracy: number;
  /** Folder (relative to the run folder) holding the saved model. */
  modelDir: string;
}

/** result.json of a run. */
export interface RunResult {
  child: ModelReport;
  parent: ModelReport;
  /** The Child's costs, repeated at the top for the reports' summary. */
  ops: number;
  bops: number;
  flops: number;
  sizeBytes: number;
  searchSeconds: number;
  trainSeconds: number;
  settings: { search?: SearchSettings; train: TrainSettings };
  seed: number;
  genotype: Genotype;
  dataset?: string;
  /** [C, H, W] of the images and the number of classes. */
  inputShape: number[];
  numClasses: number;
  /** The form of the 1-bit Child that was trained (also in settings.train; absent in runs made before the forms: bireal). */
  childBlock?: ChildBlock;
  /** How the cpu backend's GEMM summed (--sums; absent on other backends and in runs made before it). */
  gemmSums?: 'float64' | 'float32';
  /** The search's budget (--max-ops / --max-bytes) and where the trained Child stands against it. */
  budget?: { maxOps: number | null; maxBytes: number | null; ops: number; bytes: number; fits: boolean };
}

export interface RunEvaluationOptions {
  /** A saved model folder (run/child or run/parent) or a run folder (then its child/). */
  modelDir: string;
  data: { test: NasDataset };
  batchSize?: number;
  /** Evaluate at most this many test images. */
  limit?: number;
}

export interface EvaluationResult {
  /** 'child' (1-bit) or 'parent'. */
  kind: 'child' | 'parent';
  /** An exported Child file (`cpnas export`): run on the engine only; the float-simulated fields are NaN. */
  exported?: boolean;
  images: number;
  /** Accuracy on the bit-packed XNOR-popcount path (the Child), or the float path (the Parent). */
  testAccuracy: number;
  /** Accuracy of the float-simulated Child (same as testAccuracy up to ties; equal predictions expected). */
  floatTestAccuracy: number;
  /** Fraction of images where the packed and the float-simulated predictions agree. */
  agreement: number;
  imagesPerSecondPacked: number;
  imagesPerSecondFloat: number;
  genotype: Genotype;
}

/** File names inside a run folder. */
export const RUN_FILES = {
  genotype: 'genotype.json',
  history: 'history.jsonl',
  result: 'result.json',
  searchSettings: 'search-settings.json',
  trainSettings: 'train-settings.json',
  searchCheckpoint: 'checkpoints/search',
  trainCheckpoint: 'checkpoints/train',
  child: 'child',
  parent: 'parent',
} as const;
