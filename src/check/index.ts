export { runChecks, type CheckDeps } from './run.js';
export { formatReport, type CheckProblem, type CheckReport, type Severity } from './report.js';
