/**
 * history.jsonl of a run folder: one JSON record per line, appended as they happen. The run context
 * keeps a running checksum of the lines written so far; a checkpoint records how many lines it has
 * seen and their checksum, so on resume the file is reconciled with the checkpoint: lines written after
 * it are cut (they will be written again), and a file that lacks lines the checkpoint counts, or whose
 * first lines differ from what was written (a line dropped, duplicated or edited), is refused.
 */
import { CpnasError } from '../core/index.js';
import { appendJsonl, readJsonl, writeFileAtomic } from './io.js';
import type { HistoryRecord } from './types.js';

/** FNV-1a over the UTF-16 units of a string, continuing from `h`. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const SEED = 0x811c9dc5;

/** The checksum of a list of records as their lines are written. */
export function historyChecksum(records: readonly HistoryRecord[]): string {
  let h = SEED;
  for (const r of records) h = fnv(h, JSON.stringify(r) + '\n');
  return h.toString(16).padStart(8, '0');
}

/** Where a checkpoint stands in the history. */
export interface HistoryMark {
  length: number;
  checksum: string;
}

export class HistoryLog {
  readonly records: HistoryRecord[];
  private hash: number;

  constructor(readonly path: string, records: HistoryRecord[] = []) {
    this.records = records;
    this.hash = SEED;
    for (const r of records) this.hash = fnv(this.hash, JSON.stringify(r) + '\n');
  }

  /** Appends a record to memory and to the file. */
  record(rec: HistoryRecord): void {
    appendJsonl(this.path, rec);
    this.records.push(rec);
    this.hash = fnv(this.hash, JSON.stringify(rec) + '\n');
  }

  mark(): HistoryMark {
    return { length: this.records.length, checksum: this.hash.toString(16).padStart(8, '0') };
  }

  /** Replaces the file with the records held (after a reconcile cut it back). */
  rewrite(): void {
    writeFileAtomic(this.path, this.records.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  /**
   * The history of a resumed run at checkpoint `mark` (named `checkpoint` in errors): the file's first
   * mark.length records, checked against the mark; later records are cut from the file.
   */
  static reconcile(path: string, mark: HistoryMark, checkpoint: string): { log: HistoryLog; cut: number } {
    const all = readJsonl<HistoryRecord>(path);
    if (all.length < mark.length) {
      throw new CpnasError('history', `${path} holds ${all.length} records but ${checkpoint} counts ${mark.length}: it was emptied, cut or deleted, so the run's history would be lost`);
    }
    const kept = all.slice(0, mark.length);
    if (historyChecksum(kept) !== mark.checksum) {
      throw new CpnasError('history', `${path} differs from the history ${checkpoint} was saved with (a line dropped, duplicated or edited among its first ${mark.length})`);
    }
    const log = new HistoryLog(path, kept);
    log.rewrite(); // also drops a last line torn by a kill, which the next append would run into
    return { log, cut: all.length - kept.length };
  }
}
