/**
 * Files the user points the CLI at: --out (a file, under a file, empty, not empty, unwritable),
 * --data (missing, empty, wrong files, truncated CIFAR and IDX files, a wrong magic number, labels out
 * of range, too few images), --genotype (missing, not JSON, an unknown operation, `none`, a wrong
 * node, a wrong number of edges...) and --model (missing or damaged model files). Each is refused with
 * one line naming the flag or the file, exit 2 (1 for a damaged model), no stack trace, and no run
 * folder left behind.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpnas, expectCleanError, GENOTYPE, listFiles, tempRoot, TINY, TINY_TRAIN } from './helpers.js';
import { fnv1a } from '../../ops/safetensors.js';

const root = tempRoot('files');
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `run${n++}`);
const file = (name: string, content: string | Uint8Array) => {
  const p = join(root, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  return p;
};

// ---- byte builders (independent of the readers) ----------------------------------------------------

const cifarRecord = (label: number) => {
  const r = new Uint8Array(1 + 3072);
  r[0] = label;
  for (let i = 1; i < r.length; i++) r[i] = (i * 7 + label) & 255;
  return r;
};
const cat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const records = (labels: number[]) => cat(labels.map(cifarRecord));

/** A CIFAR-10 folder whose files hold `labels`; `test` overrides the test file's bytes. */
function cifarFolder(name: string, opts: { test?: Uint8Array; batch1?: Uint8Array } = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (let f = 1; f <= 5; f++) writeFileSync(join(dir, `data_batch_${f}.bin`), f === 1 && opts.batch1 ? opts.batch1 : records([f, (f + 1) % 10, (f + 2) % 10, (f + 3) % 10]));
  writeFileSync(join(dir, 'test_batch.bin'), opts.test ?? records([1, 2, 3, 4]));
  return dir;
}

const be32 = (...v: number[]) => {
  const b = Buffer.alloc(4 * v.length);
  v.forEach((x, i) => b.writeUInt32BE(x >>> 0, 4 * i));
  return new Uint8Array(b);
};
const idxImages = (count: number, magic = 0x00000803) => cat([be32(magic, count, 8, 8), new Uint8Array(count * 64).map((_, i) => i & 255)]);
const idxLabels = (labels: number[], magic = 0x00000801) => cat([be32(magic, labels.length), Uint8Array.from(labels)]);

/** An MNIST-style IDX folder; each file can be replaced. */
function idxFolder(name: string, over: Partial<Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', Uint8Array>> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const labels = Array.from({ length: 40 }, (_, i) => i % 10);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), over.trainImages ?? idxImages(40));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), over.trainLabels ?? idxLabels(labels));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), over.testImages ?? idxImages(10));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), over.testLabels ?? idxLabels(labels.slice(0, 10)));
  return dir;
}

// ---- --out -------------------------------------------------------------------------------------------

describe('--out', () => {
  const aFile = file('a-file.txt', 'not a folder\n');
  const full = join(root, 'not-empty');
  mkdirSync(full);
  writeFileSync(join(full, 'notes.txt'), 'mine\n');
  const cases: [string, string[], string][] = [
    ['an existing file', [aFile], 'is a file, not a folder'],
    ['a path under a file', [join(aFile, 'run')], 'is a file'],
    ['an empty name', [''], 'empty'],
    ['a folder with other files', [full], 'not empty'],
    ['a device', ['/dev/null'], 'is a file, not a folder'],
  ];
  for (const [what, [out], says] of cases) {
    for (const command of ['search', 'ablate'] as const) {
      it(`${command}: ${what} is refused before anything runs`, async () => {
        const r = await cpnas([command, ...TINY, '--out', out]);
        expect(expectCleanError(r, 2, ['--out'], { only: true })).toContain(says);
      });
    }
  }

  it('train: an existing file is refused', async () => {
    const genotype = file('out-genotype.json', JSON.stringify(GENOTYPE));
    const r = await cpnas(['train', ...TINY_TRAIN, '--genotype', genotype, '--out', aFile]);
    expectCleanError(r, 2, ['--out', aFile], { only: true });
    expect(readFileSync(aFile, 'utf8')).toBe('not a folder\n');
  });

  it('a place that cannot be written is refused, naming --out, with nothing left behind', async () => {
    // /proc refuses new folders even for root (and Node's recursive mkdir never returns there)
    if (process.platform !== 'linux' || !existsSync('/proc/self')) return;
    const r = await cpnas(['search', ...TINY, '--no-train', '--out', '/proc/cpnas-run']);
    expectCleanError(r, 2, ['--out', '/proc/cpnas-run']);
  });

  it('a read-only folder is refused when not running as root', async () => {
    if (typeof process.getuid !== 'function' || process.getuid() === 0) return; // root may write anywhere
    const ro = join(root, 'read-only');
    mkdirSync(ro, { mode: 0o555 });
    const r = await cpnas(['search', ...TINY, '--out', join(ro, 'run')]);
    expectCleanError(r, 2, ['--out', 'permission'], { only: true });
  });
});

// ---- --data ------------------------------------------------------------------------------------------

describe('--data: the readers\' errors reach the user as one line naming the file, exit 2, no run folder', () => {
  const emptyDir = join(root, 'data-empty');
  mkdirSync(emptyDir);
  const wrongFiles = join(root, 'data-wrong');
  mkdirSync(wrongFiles);
  writeFileSync(join(wrongFiles, 'README.txt'), 'cifar? no\n');
  writeFileSync(join(wrongFiles, 'train.csv'), '1,2,3\n');
  const goodLabels = Array.from({ length: 40 }, (_, i) => i % 10);

  const cases: [string, string[], string[]][] = [
    ['a missing folder', ['--dataset', 'cifar10', '--data', join(root, 'nowhere')], ['--data', 'does not exist']],
    ['a file instead of a folder', ['--dataset', 'cifar10', '--data', join(wrongFiles, 'README.txt')], ['--data', 'not a folder']],
    ['an empty folder (CIFAR-10)', ['--dataset', 'cifar10', '--data', emptyDir], ['--data', 'data_batch_1.bin']],
    ['an empty folder (CIFAR-100)', ['--dataset', 'cifar100', '--data', emptyDir], ['--data', 'train.bin']],
    ['an empty folder (IDX)', ['--dataset', 'mnist', '--data', emptyDir], ['--data', 'train-images-idx3-ubyte']],
    ['a folder of other files', ['--dataset', 'cifar10', '--data', wrongFiles], ['--data', 'data_batch_1.bin']],
    ['no folder for a dataset that needs one', ['--dataset', 'idx'], ['--dataset', '--data']],
    ['a truncated CIFAR test file', ['--dataset', 'cifar10', '--data', cifarFolder('cifar-truncated', { test: records([1, 2]).slice(0, 5000) })], ['--data', 'test_batch.bin', 'truncated']],
    ['an empty CIFAR file', ['--dataset', 'cifar10', '--data', cifarFolder('cifar-empty', { batch1: new Uint8Array(0) })], ['--data', 'data_batch_1.bin']],
    ['a CIFAR label out of range', ['--dataset', 'cifar10', '--data', cifarFolder('cifar-label', { test: records([1, 12, 3]) })], ['--data', 'test_batch.bin', 'label 12']],
    ['an IDX file with a wrong magic number', ['--dataset', 'mnist', '--data', idxFolder('idx-magic', { trainImages: idxImages(40, 0x12345678) })], ['--data', 'train-images-idx3-ubyte', 'magic']],
    ['an IDX labels file given as images', ['--dataset', 'mnist', '--data', idxFolder('idx-swapped', { trainImages: idxLabels(goodLabels) })], ['--data', 'train-images-idx3-ubyte']],
    ['a truncated IDX image file', ['--dataset', 'mnist', '--data', idxFolder('idx-truncated', { trainImages: idxImages(40).slice(0, 1000) })], ['--data', 'train-images-idx3-ubyte', 'truncated']],
    ['IDX files that disagree on the count', ['--dataset', 'mnist', '--data', idxFolder('idx-count', { trainLabels: idxLabels(goodLabels.slice(0, 30)) })], ['--data', 'train']],
    ['an IDX label out of range', ['--dataset', 'mnist', '--data', idxFolder('idx-label', { testLabels: idxLabels([0, 1, 2, 3, 4, 5, 6, 7, 8, 42]) })], ['--data', 't10k-labels-idx1-ubyte', '42']],
    ['a gzip file that does not decompress', ['--dataset', 'mnist', '--data', idxFolder('idx-gzip', { trainImages: Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]) })], ['--data', 'train-images-idx3-ubyte']],
  ];
  for (const [what, flags, names] of cases) {
    it(`search: ${what}`, async () => {
      const out = fresh();
      // the budget flags of TINY first, then the dataset flags (they override --dataset synthetic)
      const r = await cpnas(['search', ...TINY, ...flags, '--out', out]);
      expectCleanError(r, 2, names);
      expect(existsSync(out), 'no run folder is made').toBe(false);
    });
  }

  it('train and eval report a bad data file the same way', async () => {
    const data = cifarFolder('cifar-label-2', { test: records([1, 12, 3]) });
    const genotype = file('data-genotype.json', JSON.stringify(GENOTYPE));
    const out = fresh();
    expectCleanError(await cpnas(['train', ...TINY_TRAIN, '--genotype', genotype, '--dataset', 'cifar10', '--data', data, '--out', out]), 2, ['--data', 'label 12']);
    expect(existsSync(out)).toBe(false);
    expectCleanError(await cpnas(['eval', '--model', emptyDir, '--dataset', 'cifar10', '--data', data, '--quiet']), 2, ['--data', 'label 12']);
  });

  it('too few images for the search split is the user\'s input (--limit), found before the folder is made', async () => {
    const out = fresh();
    const r = await cpnas(['search', ...TINY, '--limit', '1', '--out', out]);
    expectCleanError(r, 2, ['--limit', 'at least 2']);
    expect(existsSync(out)).toBe(false);
  });
});

// ---- --genotype --------------------------------------------------------------------------------------

describe('train --genotype: every bad genotype file is one line naming --genotype and the problem, exit 2', () => {
  const g = () => JSON.parse(JSON.stringify(GENOTYPE)) as typeof GENOTYPE & Record<string, unknown>;
  const edit = (fn: (x: ReturnType<typeof g>) => unknown) => {
    const x = g();
    const r = fn(x);
    return JSON.stringify(r === undefined ? x : r);
  };
  const cases: [string, string | Uint8Array, string][] = [
    ['an empty file', '', 'not valid JSON'],
    ['cut-off JSON', JSON.stringify(GENOTYPE).slice(0, 40), 'not valid JSON'],
    ['binary bytes', Uint8Array.from([0xff, 0xfe, 0x7b, 0x00]), 'not valid JSON'],
    ['null', 'null', 'expected an object'],
    ['an array', '[1, 2]', 'expected an object'],
    ['an unknown operation', edit((x) => void (x.normal[0][0] = 'conv_9x9')), 'unknown operation "conv_9x9"'],
    ['the none operation', edit((x) => void (x.reduce[3][0] = 'none')), '"none"'],
    ['an operation that is not a name', edit((x) => void ((x.normal[0] as unknown[])[0] = 7)), 'operation must be a name'],
    ['an input node after the node', edit((x) => void (x.normal[0][1] = 4)), 'reads node 4'],
    ['a negative input node', edit((x) => void (x.normal[2][1] = -1)), 'reads node -1'],
    ['a fractional input node', edit((x) => void (x.normal[2][1] = 0.5)), 'reads node 0.5'],
    ['the same input twice', edit((x) => void (x.normal[1][1] = 0)), 'both read node 0'],
    ['7 edges in the normal cell', edit((x) => void x.normal.pop()), '7 entries'],
    ['6 edges in the reduction cell', edit((x) => void x.reduce.splice(0, 2)), '6 entries but 8 are needed'],
    ['an edge that is not a pair', edit((x) => void ((x.normal as unknown[])[0] = ['skip_connect'])), 'must be a pair'],
    ['a concat node that does not exist', edit((x) => void (x.normalConcat = [2, 3, 4, 9])), 'names node 9'],
    ['a missing field', edit((x) => void delete (x as Record<string, unknown>).reduce), 'missing field "reduce"'],
    ['an unknown field', edit((x) => void (x.extra = 1)), 'unexpected field "extra"'],
    ['a result.json whose genotype is not one', JSON.stringify({ genotype: 5 }), 'expected an object'],
  ];
  for (const [what, content, says] of cases) {
    it(what, async () => {
      const path = file(`genotype-${n++}.json`, content);
      const out = fresh();
      const line = expectCleanError(await cpnas(['train', ...TINY_TRAIN, '--genotype', path, '--out', out]), 2, ['--genotype', path], { only: true });
      expect(line).toContain(says);
      expect(line.split(path).length - 1, 'the path is named once').toBe(1);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('a missing file and a folder are refused', async () => {
    expectCleanError(await cpnas(['train', ...TINY_TRAIN, '--genotype', join(root, 'none.json')]), 2, ['--genotype', 'does not exist'], { only: true });
    expectCleanError(await cpnas(['train', ...TINY_TRAIN, '--genotype', root]), 2, ['--genotype', 'folder'], { only: true });
  });
});

// ---- eval --model ------------------------------------------------------------------------------------

describe('a trained run folder with missing or damaged files (eval --model, train --resume): one line naming the file', () => {
  let run = '';
  beforeAll(async () => {
    // a small trained run: one cell, 2 channels, 64 images (under a second)
    run = join(root, 'trained');
    const genotype = file('trained-genotype.json', JSON.stringify(GENOTYPE));
    const r = await cpnas(['train', ...TINY_TRAIN, '--limit', '64', '--train-cells', '1', '--train-channels', '2', '--genotype', genotype, '--out', run]);
    expect(r.code, r.stderr).toBe(0);
  });

  /** A copy of the run folder with one change to its Child's model files. */
  const damaged = (name: string, change: (child: string) => void): string => {
    const dir = join(root, `model-${name}`);
    cpSync(run, dir, { recursive: true });
    change(join(dir, 'child'));
    return join(dir, 'child');
  };
  /** Rewrites the header of the Child's model.safetensors (the data stays as it is); with `resign`, its
   * header checksum is made again so that the checks behind it are reached. */
  type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__: Record<string, string> };
  const editHeader = (child: string, fn: (h: Header, meta: Record<string, any>) => void, resign = true) => {
    const p = join(child, 'model.safetensors');
    const bytes = readFileSync(p);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Header;
    const meta = JSON.parse(header.__metadata__['cpnas.meta']);
    fn(header, meta);
    if (header.__metadata__['cpnas.meta'] !== undefined) header.__metadata__['cpnas.meta'] = JSON.stringify(meta);
    if (resign) {
      delete header.__metadata__['cpnas.header-checksum'];
      header.__metadata__['cpnas.header-checksum'] = fnv1a(new TextEncoder().encode(JSON.stringify(header)));
    }
    const head = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(head.length));
    writeFileSync(p, Buffer.concat([len, head, bytes.subarray(8 + n)]));
  };
  const first = (h: Header) => Object.keys(h).find((k) => k !== '__metadata__')!;

  it('the intact model evaluates (the fixture is sound)', async () => {
    const r = await cpnas(['eval', '--model', join(run, 'child'), '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).kind).toBe('child');
  });

  const MODEL = 'model.safetensors';
  const cases: [string, (child: string) => void, string[]][] = [
    ['a truncated model.safetensors', (c) => writeFileSync(join(c, MODEL), readFileSync(join(c, MODEL)).subarray(0, 100)), [MODEL]],
    ['a model.safetensors cut inside its data', (c) => { const b = readFileSync(join(c, MODEL)); writeFileSync(join(c, MODEL), b.subarray(0, b.length - 10)); }, [MODEL]],
    ['a model.safetensors with one data byte changed', (c) => {
      const b = readFileSync(join(c, MODEL));
      b[b.length - 20] ^= 0xff;
      writeFileSync(join(c, MODEL), b);
    }, [MODEL, 'checksum']],
    ['a missing model.safetensors', (c) => rmSync(join(c, MODEL)), [MODEL, 'no saved model']],
    ['an empty model.safetensors', (c) => writeFileSync(join(c, MODEL), ''), [MODEL, 'too short']],
    ['a model.safetensors whose header is not JSON', (c) => { const b = readFileSync(join(c, MODEL)); b[8] = 0x78 /* 'x' for the opening brace */; writeFileSync(join(c, MODEL), b); }, [MODEL, 'not valid JSON']],
    // edits behind the checksum's back: refused by it, naming the file
    ['a model.safetensors with max_pool changed to avg_pool', (c) => editHeader(c, (_h, m) => {
      const i = m.genotype.normal.findIndex((e: [string, number]) => e[0] !== 'avg_pool_3x3');
      m.genotype.normal[i][0] = m.genotype.normal[i][0] === 'max_pool_3x3' ? 'avg_pool_3x3' : 'max_pool_3x3';
    }, false), [MODEL, 'fails its checksum']],
    ['a model.safetensors with one value edited', (c) => editHeader(c, (_h, m) => void (m.testAccuracy = 0.99), false), [MODEL, 'fails its checksum']],
    // edits with the checksum made again: the checks behind it
    ['a model.safetensors with a wrong shape (same size)', (c) => editHeader(c, (h) => { const t = h[first(h)]; t.shape = [t.shape.reduce((a, b) => a * b, 1)]; }), ['stem.weight', 'shape']],
    ['a model.safetensors with a wrong shape (other size)', (c) => editHeader(c, (h) => { const t = h[first(h)]; t.shape = [t.shape[0] * 2, ...t.shape.slice(1)]; }), ['stem.weight', 'bytes']],
    ['a model.safetensors of another format', (c) => editHeader(c, (h) => void (h.__metadata__.format = 'onnx')), ['format']],
    ['a model.safetensors with a float16 tensor', (c) => editHeader(c, (h) => void (h[first(h)].dtype = 'F16')), ['stem.weight', 'F16']],
    ['a model.safetensors without its description', (c) => editHeader(c, (h) => void delete h.__metadata__['cpnas.meta']), [MODEL, 'not a model saved by cpnas']],
    ['a model.safetensors with an unknown operation', (c) => editHeader(c, (_h, m) => void (m.genotype.normal[0][0] = 'conv_9x9')), ['conv_9x9']],
    ['a model.safetensors for other images', (c) => editHeader(c, (_h, m) => void (m.inputShape = [1, 8, 8])), ['[1,8,8]', '[3,8,8]', 'channel']],
  ];
  for (const [what, change, names] of cases) {
    it(what, async () => {
      const model = damaged(`case${n++}`, change);
      const r = await cpnas(['eval', '--model', model, '--quiet']);
      expectCleanError(r, r.code === 2 ? 2 : 1, names);
    });
  }

  it('a model folder without a model, and one without a run around it', async () => {
    const empty = join(root, 'no-model');
    mkdirSync(empty);
    expectCleanError(await cpnas(['eval', '--model', empty, '--quiet']), 2, ['--dataset', 'is required'], { only: true });
    expectCleanError(await cpnas(['eval', '--model', empty, '--dataset', 'synthetic', '--quiet']), 1, ['no saved model', empty]);
  });

  it('a damaged run.json above the model folder is named, against --model', async () => {
    const model = damaged('runjson', (c) => writeFileSync(join(c, '..', 'run.json'), '{"command": "search", "config": {"dataset": 5}}'));
    expectCleanError(await cpnas(['eval', '--model', model, '--quiet']), 2, ['--model', 'run.json'], { only: true });
  });

  it('train --resume of a finished run reports it again without training', async () => {
    const dir = damaged('finished', () => {}).replace(/[\\/]child$/, '');
    const r = await cpnas(['train', '--resume', dir, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('training already finished');
    expect(r.stdout).toContain('Test accuracy');
  });

  it('train --resume with a damaged genotype.json names --resume and the file', async () => {
    const dir = damaged('genotype', (c) => writeFileSync(join(c, '..', 'genotype.json'), '{"normal": [["conv_9x9", 0]'));
    const run = dir.replace(/[\\/]child$/, '');
    expectCleanError(await cpnas(['train', '--resume', run, '--quiet']), 2, ['--resume', 'genotype.json'], { only: true });
  });

  it('evaluating never writes into the model folder', async () => {
    const before = listFiles(run);
    await cpnas(['eval', '--model', run, '--quiet']);
    expect(listFiles(run)).toEqual(before);
  });
});
