import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonl } from '../../nas/io.js';
import { runSearch } from '../../nas/search.js';
import type { HistoryRecord } from '../../nas/types.js';
import { FEW, tiny, tinySplits } from './tiny.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpnas-resume-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const splits = tinySplits();

describe('resuming a search', () => {
  for (const [strategy, unit] of [['cp', 'round'], ['cp', 'sample'], ['darts', 'epoch']] as const) {
    it(`${strategy}: a search stopped ${unit === 'sample' ? 'after the 3rd sample of round 1' : `after ${unit} 1`} and resumed equals an uninterrupted one`, () => {
      const settings = tiny({ strategy, primitives: FEW, T: 2, beta: 1.5, dartsEpochs: 3 });
      const full = runSearch({ settings, data: splits, outDir: tmp() });

      const outDir = tmp();
      const stop = new Error('stop');
      expect(() => runSearch({
        settings, data: splits, outDir,
        onProgress: (e) => {
          if (e.checkpoint && e.unit === unit && (unit !== 'sample' || e.done === 3) && (unit === 'sample' || e.round === 1)) throw stop;
        },
      })).toThrow(stop);
      const before = readJsonl<HistoryRecord>(join(outDir, 'history.jsonl'));
      expect(before.some((r) => r.type === 'genotype')).toBe(false);
      const resumed = runSearch({ settings, data: splits, outDir, resume: true });

      expect(resumed.genotype).toEqual(full.genotype);
      const strip = (h: HistoryRecord[]) => h.map((r) => ({ ...r, seconds: 0, searchSeconds: 0 }));
      expect(strip(resumed.history)).toEqual(strip(full.history));
      expect(strip(readJsonl<HistoryRecord>(join(outDir, 'history.jsonl')))).toEqual(strip(full.history));
    });
  }

});
