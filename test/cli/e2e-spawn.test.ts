/**
 * The compiled `cpnas` binary (dist/cli/cpnas.js, built by `npm run build` or `npm ci`): exit codes as
 * a shell sees them, and Ctrl-C (SIGINT) stopping a search after a checkpoint with exit code 130 and
 * the resume command. Skipped when the package has not been built.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from './helpers.js';

const bin = resolve('dist/cli/cpnas.js');
const built = existsSync(bin);
const root = tempDir('cpnas-spawn-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(!built)('dist/cli/cpnas.js', () => {
  it('keeps the shebang on line 1 and exits 2 on bad input with one line', () => {
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    const r = spawnSync(process.execPath, [bin, 'search', '--epochs', '-1'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe('cpnas search: --epochs: must be >= 0, got -1');
    expect(r.stdout).toBe('');
  });

  it('Ctrl-C stops the search after a checkpoint: exit 130, resume command printed; --resume finishes it', async () => {
    const out = join(root, 'interrupted');
    const child = spawn(process.execPath, [bin, 'search', '--preset', 'tiny', '--primitives', 'none,max_pool_3x3,sep_conv_3x3', '--limit', '128', '--no-train', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (!sent && stderr.includes('search: started')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    expect(code, stderr).toBe(130);
    // as the user typed it: npx cpnas under npm / npx, node <script> when started as here without npm
    expect(stderr).toMatch(new RegExp(`Continue with: (npx cpnas|node \\S*cpnas\\.js) search --resume ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(existsSync(join(out, 'genotype.json'))).toBe(false);

    const resumed = await cli(['search', '--resume', out, '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('resuming the search');
    expect(existsSync(join(out, 'genotype.json'))).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });
});
