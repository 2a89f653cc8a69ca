/**
 * Data-layer timings: reading a 50,000-record CIFAR-10 set (the size of the real training files) with
 * loadDataset (read, check, hold out val, compute normalization), and making one augmented batch.
 * The files are generated in a temporary folder and removed afterwards. Target for the read: < 3 s.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../core/index.js';
import { encodeCifarRecords, loadDataset } from '../data/index.js';
import type { BenchOptions, BenchRow, BenchSuite } from './types.js';

const PIXELS = 3072;

/** Writes data_batch_1..5.bin (records each) and test_batch.bin with pseudo-random content. */
export function writeCifar10Folder(dir: string, recordsPerFile = 10_000, seed = 1): void {
  const rng = new Random(seed);
  const files = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];
  for (const file of files) {
    const pixels = new Uint8Array(recordsPerFile * PIXELS);
    // 4 random bytes per draw keep generation cheap next to the read being timed
    for (let i = 0; i < pixels.length; i += 4) {
      const r = rng.nextUint32();
      pixels[i] = r;
      pixels[i + 1] = r >>> 8;
      pixels[i + 2] = r >>> 16;
      pixels[i + 3] = r >>> 24;
    }
    const labels = new Uint8Array(recordsPerFile);
    for (let i = 0; i < labels.length; i++) labels[i] = rng.int(10);
    writeFileSync(join(dir, file), encodeCifarRecords(pixels, [labels]));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export const suite: BenchSuite = {
  name: 'data',
  async run(opts: BenchOptions): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), 'cpnas-bench-cifar-'));
    try {
      writeCifar10Folder(dir);
      const repeats = opts.quick ? 1 : 3;
      const load = () => loadDataset('cifar10', { dataDir: dir });
      // outside --quick, one untimed load first warms the JIT and the page cache
      if (!opts.quick) load();
      const times: number[] = [];
      let data = null as ReturnType<typeof load> | null;
      for (let r = 0; r < repeats; r++) {
        const t0 = performance.now();
        data = load();
        times.push(performance.now() - t0);
      }
      const rows: BenchRow[] = [{
        backend: 'cpu', bench: 'cifar10_read_50k', ms: median(times),
        note: `loadDataset('cifar10'): 5 x 10,000 train + 10,000 test records, checks, val hold-out, normalization; median of ${repeats}`,
      }];
      const batchTimes: number[] = [];
      const rng = new Random(0);
      const iter = data!.train.batches(128, { shuffle: true, rng, augment: true })[Symbol.iterator]();
      for (let r = 0; r < (opts.quick ? 5 : 50); r++) {
        const t0 = performance.now();
        iter.next();
        batchTimes.push(performance.now() - t0);
      }
      rows.push({ backend: 'cpu', bench: 'cifar10_batch_128_aug', ms: median(batchTimes), note: 'one shuffled batch [128,3,32,32] with crop + flip' });
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
