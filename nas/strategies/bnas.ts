/**
 * BNAS-style search, the baseline the CP-NAS paper compares against: the same sampling and abandoning
 * as cp, but the indicator is the 1-bit Child's validation accuracy alone (beta = 0), and no Parent is
 * trained at all, which makes each sample about half as expensive.
 */
import type { Strategy } from './context.js';
import { indicatorSearch } from './cp.js';

export const bnasStrategy: Strategy = (ctx) => indicatorSearch(ctx, 'bnas', false);
