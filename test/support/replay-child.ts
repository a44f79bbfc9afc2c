/**
 * `tributary replay` as a child process a test can kill -9: runs runReplay with the options given as a JSON
 * argument and prints the result as one JSON line on stdout (logs go to stderr).
 */
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/ops/logger.js';
import { runReplay, type ReplayOptions } from '../../src/replay/index.js';

const [configFile, optionsJson] = process.argv.slice(2);
if (configFile === undefined || optionsJson === undefined) throw new Error('usage: replay-child.ts CONFIG OPTIONS_JSON');
const options = JSON.parse(optionsJson) as Omit<ReplayOptions, 'logger'>;
const result = await runReplay(loadConfig(configFile), { ...options, logger: createLogger('info', process.stderr) });
process.stdout.write(`${JSON.stringify(result)}\n`);
