import { describe, expect, it } from 'vitest';
import { clock, eta, formatMetrics, Progress } from '../../cli/progress.js';
import { Sink } from './helpers.js';

describe('progress helpers', () => {
  it('formats clocks, ETAs and metrics', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(75.4)).toBe('1:15');
    expect(clock(3725)).toBe('1:02:05');
    expect(eta(0, 10, 5)).toBe('--:--');
    expect(eta(2, 8, 10)).toBe('0:40'); // 5 s per step, 8 steps left
    expect(formatMetrics({ A_C: 0.5, loss: 1.23456, lr: 0.05, trainAccuracy: 0.9 })).toBe('A_C 50.0% loss 1.235 lr 5.0e-2 trainAccuracy 90.0%');
    expect(formatMetrics({ loss: Number.NaN })).toBe('');
    expect(formatMetrics(undefined)).toBe('');
  });
});

describe('Progress', () => {
  it('redraws one line on a terminal, throttled, with an ETA from the rate so far', () => {
    const out = new Sink(true, 80);
    let t = 0;
    const p = new Progress(out, { now: () => t, redrawMs: 100 });
    expect(p.interactive).toBe(true);
    p.update({ phase: 'search', done: 0, total: 4, label: 'round 1/2' });
    t = 50;
    p.update({ phase: 'search', done: 1, total: 4, label: 'round 1/2' }); // throttled
    t = 10_000;
    p.update({ phase: 'search', done: 2, total: 4, label: 'round 1/2' });
    expect(out.text.split('\r')).toHaveLength(3); // two draws
    expect(out.text).toContain('search [##########..........]  50% 2/4  ETA 0:10  round 1/2');
    p.log('a log line');
    expect(out.text).toContain('\r\x1b[Ka log line\n\rsearch');
    t = 20_000;
    p.update({ phase: 'search', done: 4, total: 4, label: 'round 2/2' });
    expect(out.text.endsWith('done in 0:20  round 2/2\x1b[K\n')).toBe(true);
    const len = out.text.length;
    p.update({ phase: 'search', done: 4, total: 4, label: 'again' }); // a repeated final event draws nothing
    expect(out.text.length).toBe(len);
    for (const line of out.text.split(/[\r\n]/)) expect(line.replace('\x1b[K', '').length).toBeLessThanOrEqual(79);
  });

  it('prints plain lines per round or epoch elsewhere, and starts a new bar per phase', () => {
    const out = new Sink(false);
    const p = new Progress(out, { now: () => 0 });
    p.update({ phase: 'parent', done: 0, total: 2, label: '' });
    p.update({ phase: 'parent', done: 1, total: 2, label: 'epoch 1/2', checkpoint: true, unit: 'epoch' });
    p.update({ phase: 'parent', done: 1, total: 2, label: 'batch', checkpoint: true, unit: 'sample' });
    p.update({ phase: 'parent', done: 2, total: 2, label: 'epoch 2/2', checkpoint: true, unit: 'epoch' });
    p.update({ phase: 'child', done: 0, total: 2, label: '' });
    expect(out.text.split('\n').filter(Boolean)).toEqual([
      'Parent: started (2 steps)',
      'Parent: 50% 1/2  ETA --:--  epoch 1/2',
      'Parent: 100% 2/2  done in 0:00  epoch 2/2',
      'Child: started (2 steps)',
    ]);
  });

  it('keeps the ETA on an 80-column terminal however long the label and metrics are', () => {
    const out = new Sink(true, 80);
    let t = 0;
    const p = new Progress(out, { now: () => t, redrawMs: 0 });
    p.update({ phase: 'search', done: 0, total: 10, label: 'round 3/7 · repetition 1/1 · architecture 12/40' });
    t = 5_000;
    p.update({ phase: 'search', done: 5, total: 10, label: 'round 3/7 · repetition 1/1 · architecture 12/40', metrics: { A_C: 0.4, A_P: 0.5, z: 0.45, childLoss: 1.2 } });
    const last = out.text.split('\r').at(-1)!.replace('\x1b[K', '');
    expect(last.length).toBeLessThanOrEqual(79);
    expect(last).toContain('ETA 0:05');
  });

  it('gives the whole run\'s ETA from a plan of the phases to come', () => {
    const out = new Sink(true, 200);
    let t = 0;
    const p = new Progress(out, { now: () => t, redrawMs: 0 });
    // search: 4 steps of 10 units; then Parent and Child: 10 steps of 2 units each (40 units left after the search)
    p.plan([{ phase: 'search', unitsPerStep: 10 }, { phase: 'parent', unitsPerStep: 2, steps: 10 }, { phase: 'child', unitsPerStep: 2, steps: 10 }]);
    p.update({ phase: 'search', done: 0, total: 4, label: '' });
    t = 20_000; // 20 units in 20 s: 1 unit per second
    p.update({ phase: 'search', done: 2, total: 4, label: '' });
    // search left: 20 units; training: 40 units -> 60 s
    expect(out.text.split('\r').at(-1)).toContain('ETA 0:20 (run 1:00)');
    t = 40_000;
    p.update({ phase: 'search', done: 4, total: 4, label: '' });
    p.update({ phase: 'parent', done: 0, total: 10, label: '' });
    t = 50_000;
    p.update({ phase: 'parent', done: 5, total: 10, label: '' });
    // 50 units in 50 s; 10 + 20 units left
    expect(out.text.split('\r').at(-1)).toContain('(run 0:30)');
    // the last phase's ETA is the run's: no second figure
    p.update({ phase: 'child', done: 0, total: 10, label: '' });
    t = 60_000;
    p.update({ phase: 'child', done: 1, total: 10, label: '' });
    expect(out.text.split('\r').at(-1)).not.toContain('(run');
  });

  it('keeps the search\'s work in the run\'s rate when the pipeline ends the phase early (the genotype is printed)', () => {
    const out = new Sink(true, 200);
    let t = 0;
    const p = new Progress(out, { now: () => t, redrawMs: 0 });
    p.plan([{ phase: 'search', unitsPerStep: 10 }, { phase: 'parent', unitsPerStep: 2, steps: 10 }, { phase: 'child', unitsPerStep: 2, steps: 10 }]);
    p.update({ phase: 'search', done: 0, total: 4, label: '' });
    t = 30_000;
    p.update({ phase: 'search', done: 3, total: 4, label: '' });
    p.finish(); // as pipeline.ts does before printing the genotype
    p.log('genotype ...');
    t = 40_000;
    p.update({ phase: 'parent', done: 0, total: 10, label: '' });
    t = 50_000;
    p.update({ phase: 'parent', done: 5, total: 10, label: '' });
    // 30 + 10 units in 50 s (0.8 per second); 10 + 20 units left: 37.5 s, not the 150 s of the Parent's units alone
    expect(out.text.split('\r').at(-1)).toContain('(run 0:38)');
  });
});
