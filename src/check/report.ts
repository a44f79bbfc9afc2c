/**
 * What `tributary check` finds: one entry per problem, each naming the service, what is wrong and the fix,
 * and the plain-text rendering for the terminal.
 */

export type Severity = 'error' | 'warning';

export interface CheckProblem {
  /** Which service the problem belongs to, e.g. `source inventory (postgres 127.0.0.1:5432/test)` or `kafka`. */
  readonly service: string;
  /** Errors stop Tributary from working; warnings work but lose something (e.g. keys for keyless tables). */
  readonly severity: Severity;
  /** Names the config key path or server setting involved. */
  readonly problem: string;
  readonly fix: string;
}

export interface CheckReport {
  /** Every service that was checked, in config order, whether or not it had problems. */
  readonly services: readonly string[];
  readonly problems: readonly CheckProblem[];
  /** True when there is no error (warnings allowed). */
  readonly ok: boolean;
}

export function makeReport(services: readonly string[], problems: readonly CheckProblem[]): CheckReport {
  return { services, problems, ok: problems.every((problem) => problem.severity !== 'error') };
}

export function formatReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const service of report.services) {
    const found = report.problems.filter((problem) => problem.service === service);
    if (found.length === 0) {
      lines.push(`ok    ${service}`);
      continue;
    }
    const errors = found.filter((problem) => problem.severity === 'error').length;
    lines.push(`${errors > 0 ? 'FAIL' : 'warn'}  ${service}`);
    for (const problem of found) {
      lines.push(`      ${problem.severity}: ${indent(problem.problem, 6 + problem.severity.length + 2)}`);
      lines.push(`        fix: ${indent(problem.fix, 13)}`);
    }
  }
  const errors = report.problems.filter((problem) => problem.severity === 'error').length;
  const warnings = report.problems.length - errors;
  lines.push('');
  lines.push(
    report.ok
      ? `All checks passed${warnings > 0 ? ` with ${plural(warnings, 'warning')}` : ''}.`
      : `${plural(errors, 'error')}${warnings > 0 ? ` and ${plural(warnings, 'warning')}` : ''}: Tributary cannot start until the errors are fixed.`,
  );
  return lines.join('\n');
}

function indent(text: string, width: number): string {
  return text.replace(/\n/g, `\n${' '.repeat(width)}`);
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}
