/**
 * Progress display driven by the engine's onProgress events. On a terminal: one line on stderr,
 * redrawn with \r, with a bar, counts, the latest metrics and an ETA. Elsewhere (a pipe, a CI log) or
 * with --quiet: a plain line when a round or an epoch ends and when a phase starts or finishes.
 */
import type { ProgressEvent } from '../nas/types.js';

export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Force the plain-lines mode even on a terminal. */
  quiet?: boolean;
  /** Clock in milliseconds (tests pass a fake one). */
  now?: () => number;
  /** Minimum time between two redraws of the bar. */
  redrawMs?: number;
}

const PHASE_NAMES: Record<string, string> = { search: 'search', parent: 'Parent', child: 'Child', evaluate: 'eval' };

export class Progress {
  private readonly bar: boolean;
  private readonly now: () => number;
  private readonly redrawMs: number;
  private phase: string | null = null;
  private phaseStart = 0;
  private startDone = 0;
  private lastDraw = -Infinity;
  private lastEvent: ProgressEvent | null = null;
  private lineShown = false;
  private completed = false;

  constructor(private readonly out: OutStream, options: ProgressOptions = {}) {
    this.bar = Boolean(out.isTTY) && !options.quiet;
    this.now = options.now ?? (() => performance.now());
    this.redrawMs = options.redrawMs ?? 100;
  }

  /** Whether the redrawn bar is used (otherwise plain lines). */
  get interactive(): boolean {
    return this.bar;
  }

  /** The engine's onProgress callback. */
  readonly update = (ev: ProgressEvent): void => {
    const t = this.now();
    // A new phase, or the same phase starting over (the Child after a resumed run), starts a new bar.
    if (ev.phase !== this.phase || (this.lastEvent !== null && ev.done < this.lastEvent.done)) {
      this.finishPhase();
      this.phase = ev.phase;
      this.phaseStart = t;
      this.startDone = ev.done;
      this.completed = false;
      if (!this.bar) this.out.write(`${PHASE_NAMES[ev.phase] ?? ev.phase}: started (${ev.total} steps)\n`);
    }
    if (this.completed) return; // a repeated final event
    this.lastEvent = ev;
    const finished = ev.total > 0 && ev.done >= ev.total;
    if (this.bar) {
      if (finished || t - this.lastDraw >= this.redrawMs) {
        this.draw(ev, t);
        this.lastDraw = t;
      }
    } else if ((ev.checkpoint && (ev.unit === 'round' || ev.unit === 'epoch')) || finished) {
      this.out.write(`${this.describe(ev, t)}\n`);
    }
    if (finished) {
      this.endLine();
      this.completed = true;
    }
  };

  /** Prints a line of the engine's log above the bar. */
  readonly log = (line: string): void => {
    if (this.bar && this.lineShown) this.out.write('\r\x1b[K');
    this.out.write(`${line}\n`);
    if (this.bar && this.lineShown && this.lastEvent) this.draw(this.lastEvent, this.now());
  };

  /** Ends the bar line (before printing the summary or an error). */
  finish(): void {
    this.finishPhase();
  }

  private endLine(): void {
    if (this.bar && this.lineShown) this.out.write('\n');
    this.lineShown = false;
  }

  private finishPhase(): void {
    this.endLine();
    this.phase = null;
    this.completed = false;
    this.lastEvent = null;
    this.lastDraw = -Infinity;
  }

  private draw(ev: ProgressEvent, t: number): void {
    const width = Math.max(40, (this.out.columns ?? 100) - 1);
    const frac = ev.total > 0 ? Math.min(1, ev.done / ev.total) : 0;
    const barW = 20;
    const filled = Math.round(frac * barW);
    const head = `${(PHASE_NAMES[ev.phase] ?? ev.phase).padEnd(6)} [${'#'.repeat(filled)}${'.'.repeat(barW - filled)}] ${String(Math.floor(frac * 100)).padStart(3)}%`;
    let line = `${head} ${this.tail(ev, t)}`;
    if (line.length > width) line = `${line.slice(0, width - 1)}…`;
    this.out.write(`\r${line}\x1b[K`);
    this.lineShown = true;
  }

  private describe(ev: ProgressEvent, t: number): string {
    const frac = ev.total > 0 ? Math.min(1, ev.done / ev.total) : 0;
    return `${PHASE_NAMES[ev.phase] ?? ev.phase}: ${Math.floor(frac * 100)}% ${this.tail(ev, t)}`;
  }

  private tail(ev: ProgressEvent, t: number): string {
    const parts = [`${ev.done}/${ev.total}`];
    if (ev.label) parts.push(ev.label);
    const metrics = formatMetrics(ev.metrics);
    if (metrics) parts.push(metrics);
    const elapsed = (t - this.phaseStart) / 1000;
    parts.push(ev.done >= ev.total ? `done in ${clock(elapsed)}` : `ETA ${eta(ev.done - this.startDone, ev.total - ev.done, elapsed)}`);
    return parts.join('  ');
  }
}

/** ETA from the rate since the phase started; `--:--` until there is a rate. */
export function eta(doneSinceStart: number, remaining: number, elapsedSeconds: number): string {
  if (doneSinceStart <= 0 || elapsedSeconds <= 0) return '--:--';
  return clock((remaining * elapsedSeconds) / doneSinceStart);
}

/** `m:ss` or `h:mm:ss`. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Accuracies as percentages, losses with 3 decimals, learning rates in exponent form. */
export function formatMetrics(metrics: ProgressEvent['metrics']): string {
  if (!metrics) return '';
  const parts: string[] = [];
  for (const [name, v] of Object.entries(metrics)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    if (/acc|^A_|^z$/i.test(name)) parts.push(`${name} ${(v * 100).toFixed(1)}%`);
    else if (/^lr$/i.test(name)) parts.push(`lr ${v.toExponential(1)}`);
    else parts.push(`${name} ${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(3)}`);
    if (parts.length >= 4) break;
  }
  return parts.join(' ');
}
