/**
 * Command-line options, timing of reference tools, and the printed figures shared by the benches.
 */
import { spawn } from 'node:child_process';

/** `--name value` pairs; unknown names are an error so a typo does not silently run the default. */
export function parseArgs<T extends Record<string, string>>(defaults: T, argv = process.argv.slice(2)): T {
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') ?? '';
    if (!(name in defaults) || argv[i + 1] === undefined) {
      throw new Error(`unknown or valueless option ${argv[i]}; options: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    }
    out[name] = argv[i + 1]!;
  }
  return out as T;
}

/** Runs a command to completion; resolves with its wall time in ms, rejects on a non-zero exit. */
export function timeCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

export function rate(rows: number, ms: number): number {
  return Math.round((rows * 1000) / ms);
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function line(label: string, text: string): void {
  console.log(`${label.padEnd(34)} ${text}`);
}
