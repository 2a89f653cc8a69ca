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
    expect(out.text).toContain('search [##########..........]  50% 2/4  round 1/2  ETA 0:10');
    p.log('a log line');
    expect(out.text).toContain('\r\x1b[Ka log line\n\rsearch');
    t = 20_000;
    p.update({ phase: 'search', done: 4, total: 4, label: 'round 2/2' });
    expect(out.text.endsWith('done in 0:20\x1b[K\n')).toBe(true);
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
      'Parent: 50% 1/2  epoch 1/2  ETA --:--',
      'Parent: 100% 2/2  epoch 2/2  done in 0:00',
      'Child: started (2 steps)',
    ]);
  });
});
