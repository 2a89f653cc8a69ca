import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGenotype, validateGenotype } from '../../nas/genotype.js';
import { readJsonl } from '../../nas/io.js';
import { searchLr } from '../../nas/loop.js';
import { runSearch } from '../../nas/search.js';
import type { HistoryRecord, ProgressEvent, RoundRecord } from '../../nas/types.js';
import { FEW, tiny, tinySplits } from './tiny.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpnas-search-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const splits = tinySplits();

describe('runSearch', () => {
  for (const strategy of ['cp', 'cp-child', 'darts', 'random'] as const) {
    it(`${strategy} runs end to end and yields a valid genotype`, () => {
      const outDir = tmp();
      const events: ProgressEvent[] = [];
      // cp-child runs the cp engine: a smaller space keeps this file fast
      const primitives = strategy === 'cp-child' ? FEW : undefined;
      const out = runSearch({ settings: tiny({ strategy, primitives }), data: splits, outDir, onProgress: (e) => events.push(e) });
      expect(validateGenotype(out.genotype)).toEqual(out.genotype);
      expect(parseGenotype(readFileSync(join(outDir, 'genotype.json'), 'utf8'))).toEqual(out.genotype);
      const history = readJsonl<HistoryRecord>(join(outDir, 'history.jsonl'));
      expect(history).toEqual(out.history);
      expect(history.at(-1)!.type).toBe('genotype');
      expect(events.length).toBeGreaterThan(0);
      if (strategy === 'cp') {
        // the supernets' learning rate follows the cosine schedule over the 35 samples
        const lrs = events.filter((e) => e.unit === 'sample').map((e) => e.metrics!.lr);
        expect(lrs[0]).toBe(0.05);
        expect(lrs.at(-1)).toBeCloseTo(searchLr({ lr: 0.05, lrMin: 1e-3, lrSchedule: 'cosine' }, 34, 35), 12);
      }
      if (strategy === 'cp' || strategy === 'cp-child') {
        const rounds = history.filter((r): r is RoundRecord => r.type === 'round');
        expect(rounds.map((r) => r.K)).toEqual(strategy === 'cp' ? [8, 7, 6, 5, 4, 3, 2] : [4, 3, 2]);
        expect(Object.keys(rounds[0].indicator).length).toBe(28);
        const samples = history.filter((r) => r.type === 'sample');
        expect(samples.length).toBe(strategy === 'cp' ? 35 : 9);
        for (const s of samples) {
          if (s.type !== 'sample') continue;
          if (strategy === 'cp-child') expect(s.A_P).toBeNull();
          else expect(s.z).toBeCloseTo(0.5 * (s.A_P! - s.A_C) + s.A_C, 12); // the default beta = 0.5
        }
        // every edge keeps one operation, never none
        for (const ops of Object.values(rounds.at(-1)!.remaining)) {
          expect(ops.length).toBe(1);
          expect(ops[0]).not.toBe('none');
        }
      }
      if (strategy === 'darts') expect(history.some((r) => r.type === 'alpha')).toBe(true);
    }, 180_000); // cp searches the full 8-operation space: about 40 s alone, more on a busy machine
  }

  it('darts with the second-order architecture gradient runs and yields a valid genotype', () => {
    const out = runSearch({ settings: tiny({ strategy: 'darts', secondOrder: true, primitives: FEW }), data: splits, outDir: tmp() });
    expect(validateGenotype(out.genotype)).toEqual(out.genotype);
  });

  it('is reproducible from the seed', () => {
    const a = runSearch({ settings: tiny({ primitives: FEW }), data: splits, outDir: tmp() });
    const b = runSearch({ settings: tiny({ primitives: FEW }), data: splits, outDir: tmp() });
    expect(a.genotype).toEqual(b.genotype);
    const strip = (h: HistoryRecord[]) => h.map((r) => ({ ...r, seconds: 0, searchSeconds: 0 }));
    expect(strip(a.history)).toEqual(strip(b.history));
  });

  it('refuses to resume with other settings, and refuses images of the wrong size', () => {
    const outDir = tmp();
    expect(() => runSearch({
      settings: tiny({ primitives: FEW }), data: splits, outDir,
      onProgress: (e) => { if (e.checkpoint) throw new Error('stop'); },
    })).toThrow('stop');
    expect(() => runSearch({ settings: tiny({ primitives: FEW, beta: 2 }), data: splits, outDir, resume: true }))
      .toThrow(/searched with other settings: beta \(0.5 in the run folder, 2 now\)/);
    expect(() => runSearch({ settings: tiny({ imageSize: 16 }), data: splits, outDir: tmp() }))
      .toThrow(/search-train images are \[1,8,8\] but the settings ask for 16x16/);
  });
});
