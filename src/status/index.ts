export { collectStatus, type StatusReport, type StatusOptions, type SourceStatus, type LakeSnapshotReader, type LakeTableSnapshot } from './report.js';
export { formatStatus, formatStatusJson } from './format.js';
