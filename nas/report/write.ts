/**
 * Writes the reports of a run folder, each file atomically: cell-normal.svg, cell-reduce.svg,
 * report.html, report-curves.csv (every curve of the page) and (when the training stage ran)
 * result.json.
 */
import { getStorage, joinPath as join } from '../../core/storage.js';
import { writeFileAtomic, writeJsonAtomic } from '../io.js';
import { RUN_FILES } from '../types.js';
import { genotypeCellSvg, renderReportHtml, reportCurvesCsv, type ReportInput } from './html.js';

export const REPORT_FILES = {
  normalCell: 'cell-normal.svg',
  reduceCell: 'cell-reduce.svg',
  html: 'report.html',
  curves: 'report-curves.csv',
} as const;

/** Writes the reports into `dir`; returns the run folder's listing afterwards (see listRunFiles). */
export function writeRunReports(dir: string, input: Omit<ReportInput, 'files'>): string[] {
  writeFileAtomic(join(dir, REPORT_FILES.normalCell), genotypeCellSvg(input.genotype, 'normal'));
  writeFileAtomic(join(dir, REPORT_FILES.reduceCell), genotypeCellSvg(input.genotype, 'reduce'));
  if (input.result) writeJsonAtomic(join(dir, RUN_FILES.result), input.result);
  writeFileAtomic(join(dir, REPORT_FILES.curves), reportCurvesCsv(input));
  const files = [...new Set([...listRunFiles(dir), REPORT_FILES.html])].sort();
  writeFileAtomic(join(dir, REPORT_FILES.html), renderReportHtml({ ...input, files, csvFile: REPORT_FILES.curves }));
  return files;
}

/**
 * The files of a run folder, relative to it: top-level files, and the files one level down (model
 * folders); deeper trees such as checkpoints/ are listed as the folder name. Temporary files of
 * atomic writes (dot files) are left out.
 */
export function listRunFiles(dir: string): string[] {
  const storage = getStorage();
  const out: string[] = [];
  for (const name of storage.list(dir)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (!storage.isFolder(path)) {
      out.push(name);
      continue;
    }
    const inner = storage.list(path).filter((n) => !n.startsWith('.'));
    if (inner.some((n) => storage.isFolder(join(path, n))) || inner.length === 0) out.push(`${name}/`);
    else out.push(...inner.map((n) => `${name}/${n}`));
  }
  return out;
}
