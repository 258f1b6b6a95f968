// fleetfix report merge: the JSON reports of shards as one report, summary and exit code recomputed.
import { exitCodeFor } from '../report/model.js';
import { mergeReports, readReport } from '../report/merge.js';
import { renderDiagnosis, renderText } from '../report/text.js';
import { emitReport, type ReportOptions } from './emit.js';

export async function runMerge(files: string[], opts: ReportOptions & { verbose?: boolean }): Promise<number> {
  const run = mergeReports(files.map(readReport));
  await emitReport(run, opts, (style) => (run.command === 'diagnose' ? renderDiagnosis(run, style) : renderText(run, { style, diffs: run.command !== 'audit', verbose: !!opts.verbose })));
  return exitCodeFor(run.summary);
}
