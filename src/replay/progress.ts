/**
 * Replay progress for people and for logs: on a terminal, one line on stderr redrawn every second (rows, rows/s,
 * ETA); otherwise a JSON log line every 10 s, as the daemon logs. Counts are rows Kafka acknowledged.
 */
import type { Logger } from '../ops/logger.js';

export interface ProgressOptions {
  /** Rows acknowledged before this run (a resumed replay). */
  readonly rowsBefore: number;
  /** Rows this run will emit, when known. */
  readonly remaining: number | undefined;
  readonly logger: Logger;
  /** A TTY gets the redrawn line; anything else gets log lines. */
  readonly terminal: NodeJS.WriteStream | undefined;
  readonly now?: () => number;
}

export interface ProgressFigures {
  readonly rows: number;
  readonly rowsPerSecond: number;
  /** Seconds left at the current rate; undefined when unknown. */
  readonly etaSeconds: number | undefined;
}

export class ReplayProgress {
  private rows: number;
  private readonly startedAt: number;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? (() => performance.now());
    this.rows = options.rowsBefore;
    this.startedAt = this.now();
    this.timer = setInterval(() => this.report(), options.terminal === undefined ? 10_000 : 1_000);
    this.timer.unref();
  }

  /** Total rows acknowledged so far, including earlier runs. */
  update(rows: number): void {
    this.rows = rows;
  }

  figures(): ProgressFigures {
    const done = this.rows - this.options.rowsBefore;
    const seconds = Math.max(1e-3, (this.now() - this.startedAt) / 1000);
    const rowsPerSecond = done / seconds;
    const left = this.options.remaining === undefined ? undefined : Math.max(0, this.options.remaining - done);
    const etaSeconds = left === undefined || rowsPerSecond <= 0 ? undefined : left / rowsPerSecond;
    return { rows: this.rows, rowsPerSecond, etaSeconds };
  }

  /** Stops reporting; on a terminal, ends the line with the final figures. */
  stop(): ProgressFigures {
    clearInterval(this.timer);
    const figures = this.figures();
    if (this.options.terminal !== undefined) this.options.terminal.write(`\r${formatLine(figures, this.total())}\n`);
    return figures;
  }

  private total(): number | undefined {
    return this.options.remaining === undefined ? undefined : this.options.rowsBefore + this.options.remaining;
  }

  private report(): void {
    const figures = this.figures();
    if (this.options.terminal !== undefined) {
      this.options.terminal.write(`\r${formatLine(figures, this.total())}\x1b[K`);
    } else {
      this.options.logger.info(
        { rows: figures.rows, totalRows: this.total(), rowsPerSecond: Math.round(figures.rowsPerSecond), etaSeconds: roundOrUndefined(figures.etaSeconds) },
        'replay progress',
      );
    }
  }
}

export function formatLine(figures: ProgressFigures, total: number | undefined): string {
  const rows = total === undefined ? `${figures.rows} rows` : `${figures.rows}/${total} rows (${percent(figures.rows, total)})`;
  const eta = figures.etaSeconds === undefined ? '' : `  ETA ${formatDuration(figures.etaSeconds)}`;
  return `replay: ${rows}  ${Math.round(figures.rowsPerSecond)} rows/s${eta}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function percent(rows: number, total: number): string {
  return total === 0 ? '100%' : `${Math.min(100, Math.floor((rows / total) * 100))}%`;
}

function roundOrUndefined(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value);
}
