/** The experiment bench: grids of strategies x settings x seeds, matched budgets, statistics, reports, plans. */
export * from './budget.js';
export * from './experiment.js';
export * from './grid.js';
export * from './html.js';
export * from './plan.js';
export * from './stats.js';
export * from './table.js';
