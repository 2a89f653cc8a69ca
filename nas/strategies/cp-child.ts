/**
 * `cp-child`: the CP-NAS engine (cp.ts) with a Child-only indicator. Every round samples and abandons
 * exactly as cp does, but the credit of an architecture is the 1-bit Child's validation accuracy alone
 * (z = A_C, eq. 4.15 with beta = 0) and no Parent is trained, which makes each sample about half as
 * expensive. It isolates what the Parent adds to CP-NAS. It is not BNAS (bnas.ts): BNAS trains a
 * partial-channel supernet differentiably and abandons operations on their measured performance.
 * Before this strategy had its own name, `bnas` ran it.
 */
import type { Strategy } from './context.js';
import { indicatorSearch } from './cp.js';

export const cpChildStrategy: Strategy = (ctx) => indicatorSearch(ctx, 'cp-child', false);
