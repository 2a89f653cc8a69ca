/**
 * Progress display driven by the engine's onProgress events. On a terminal: one line on stderr,
 * redrawn with \r: a bar, counts, the ETA (right after the counts, so that a narrow terminal cuts the
 * label and metrics, never the ETA), the label and the latest metrics. Elsewhere (a pipe, a CI log) or
 * with --quiet: a plain line when a round or an epoch ends and when a phase starts or finishes.
 *
 * With a plan (the phases still to come and their estimated work, from the pipeline), the ETA also
 * gives the whole run's: `ETA 0:42 (run 3:10)`. Work is counted in units proportional to image passes
 * times the network's cost; the rate is measured over everything done so far, so the estimate of the
 * later phases improves as the run goes.
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

/** One phase of a run's plan: its work per step, and its steps when known before it starts. */
export interface PlannedPhase {
  phase: string;
  unitsPerStep: number;
  /** Steps of the phase; for the first phase the engine's own total is used. */
  steps?: number;
}

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
  private planned: PlannedPhase[] = [];
  /** Work units of the plan's finished phases, and when the plan's first step began. */
  private unitsDone = 0;
  private planStart: number | null = null;

  constructor(private readonly out: OutStream, options: ProgressOptions = {}) {
    this.bar = Boolean(out.isTTY) && !options.quiet;
    this.now = options.now ?? (() => performance.now());
    this.redrawMs = options.redrawMs ?? 100;
  }

  /** Sets the phases to come (replacing any earlier plan); the overall ETA covers them. */
  plan(phases: readonly PlannedPhase[]): void {
    this.planned = phases.filter((p) => p.unitsPerStep > 0).map((p) => ({ ...p }));
    this.unitsDone = 0;
    this.planStart = null;
  }

  /** Seconds left for the whole plan, or null when it cannot be estimated yet. */
  overallEta(ev: ProgressEvent, t: number): number | null {
    const i = this.planned.findIndex((p) => p.phase === ev.phase);
    if (i < 0 || this.planStart === null) return null;
    const cur = this.planned[i];
    const doneUnits = this.unitsDone + ev.done * cur.unitsPerStep;
    const elapsed = (t - this.planStart) / 1000;
    if (doneUnits <= 0 || elapsed <= 0) return null;
    let left = Math.max(0, ev.total - ev.done) * cur.unitsPerStep;
    for (const p of this.planned.slice(i + 1)) {
      if (p.steps === undefined) return null;
      left += p.steps * p.unitsPerStep;
    }
    return (left * elapsed) / doneUnits;
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
      // the plan's finished phase adds its work (finishPhase); a resumed phase counts from where it resumed
      this.finishPhase();
      if (this.planStart === null && this.planned.some((p) => p.phase === ev.phase)) this.planStart = t;
      const cur = this.planned.find((p) => p.phase === ev.phase);
      if (cur) {
        cur.steps = ev.total;
        this.unitsDone -= ev.done * cur.unitsPerStep; // steps done before a resume took no time here
      }
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
    // the work of the phase that ends counts toward the whole run's rate, also when the pipeline ends
    // it early (finish(), to print the genotype between the search and the training)
    const done = this.planned.find((p) => p.phase === this.phase);
    if (done && this.lastEvent) this.unitsDone += this.lastEvent.done * done.unitsPerStep;
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
    // the label and metrics come last, so cutting the line to the terminal never cuts the ETA
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
    const elapsed = (t - this.phaseStart) / 1000;
    const overall = this.overallEta(ev, t);
    const last = this.planned.length > 0 && this.planned[this.planned.length - 1].phase === ev.phase;
    const run = overall !== null && !last ? ` (run ${clock(overall)})` : '';
    parts.push(ev.done >= ev.total ? `done in ${clock(elapsed)}${run}` : `ETA ${eta(ev.done - this.startDone, ev.total - ev.done, elapsed)}${run}`);
    if (ev.label) parts.push(ev.label);
    const metrics = formatMetrics(ev.metrics);
    if (metrics) parts.push(metrics);
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
