/**
 * deploy/: the systemd unit passes `systemd-analyze verify` without a warning and keeps its promises (hardening,
 * state directory, a stop timeout longer than the daemon's own); the Containerfile's health check, run as is,
 * follows /readyz. The image itself cannot be built here (no container engine).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseConfig } from '../../src/config/index.js';
import { startOpsServer, type OpsServer } from '../../src/ops/http.js';
import { ReadinessTracker } from '../../src/ops/health.js';
import { silentLogger } from '../../src/ops/logger.js';
import { TributaryMetrics } from '../../src/ops/metrics.js';

const run = promisify(execFile);
const deploy = (file: string): string => fileURLToPath(new URL(`../../deploy/${file}`, import.meta.url));

async function which(command: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${command}`]).then(
    () => true,
    () => false,
  );
}

/** `Key=value` lines of the [Service] section, in order. */
function serviceSettings(unit: string): [string, string][] {
  const section = /^\[Service\]\n([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(unit)?.[1] ?? '';
  return section
    .split('\n')
    .filter((line) => /^\w+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
}

describe('deploy/tributary.service', () => {
  const unit = readFileSync(deploy('tributary.service'), 'utf8');
  const settings = new Map(serviceSettings(unit));

  it('passes systemd-analyze verify with no warning', async (t) => {
    if (!(await which('systemd-analyze'))) {
      assert.ok(!process.env.CI, 'systemd-analyze is missing in CI: install Debian\'s systemd package (scripts/stack does)');
      t.skip('systemd-analyze not installed (apt-get install systemd); CI runs this check');
      return;
    }
    const { stdout, stderr } = await run('systemd-analyze', ['verify', deploy('tributary.service')]);
    assert.equal(stderr, '', 'systemd-analyze warned');
    assert.equal(stdout, '');
  });

  it('verify catches a broken unit, so the check above can fail', async (t) => {
    if (!(await which('systemd-analyze'))) return t.skip('systemd-analyze not installed');
    const dir = mkdtempSync(join(tmpdir(), 'tributary-unit-'));
    try {
      writeFileSync(join(dir, 'broken.service'), unit.replace('Restart=on-failure', 'Restart=sometimes'));
      const { stderr } = await run('systemd-analyze', ['verify', join(dir, 'broken.service')]).catch((e: { stderr: string }) => e);
      assert.match(stderr, /restart specifier/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('restarts on failure, keeps its state in a state directory, runs as a dedicated user', () => {
    assert.equal(settings.get('Restart'), 'on-failure');
    assert.equal(settings.get('StateDirectory'), 'tributary');
    assert.equal(settings.get('User'), 'tributary');
    assert.match(settings.get('EnvironmentFile') ?? '', /^-\/etc\/tributary\/tributary\.env$/);
    assert.match(readFileSync(deploy('tributary.sysusers'), 'utf8'), /^u tributary /m);
  });

  it('is hardened, without MemoryDenyWriteExecute (V8 needs W+X memory)', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
      ['CapabilityBoundingSet', ''],
    ]) {
      assert.equal(settings.get(key!), value, key);
    }
    assert.equal(settings.has('MemoryDenyWriteExecute'), false);
  });

  it('runs Node with an explicit heap limit, the same as the container (and the benchmarks) use', () => {
    const unitOptions = /^Environment=NODE_OPTIONS=(.+)$/m.exec(unit)?.[1];
    assert.match(unitOptions ?? '', /^--max-old-space-size=\d+$/);
    const containerfile = readFileSync(deploy('Containerfile'), 'utf8');
    assert.equal(/^ENV NODE_OPTIONS=(.+)$/m.exec(containerfile)?.[1], unitOptions);
  });

  it('waits longer on stop than the daemon takes to drain by default', () => {
    const config = parseConfig('sources: [{name: a, kind: mysql, serverId: 1, connection: {user: u}, tables: [{name: d.t}]}]\nkafka: {brokers: ["k:9092"]}\n', 'inline', {});
    const stopSeconds = Number(/^(\d+)s$/.exec(settings.get('TimeoutStopSec') ?? '')?.[1]);
    assert.equal(settings.get('KillSignal'), 'SIGTERM');
    assert.ok(stopSeconds * 1000 >= config.pipeline.shutdownTimeoutMs + 10_000, `TimeoutStopSec=${stopSeconds}s`);
  });
});

describe('deploy/Containerfile', () => {
  const containerfile = readFileSync(deploy('Containerfile'), 'utf8').replace(/\\\n\s*/g, '');
  let server: OpsServer;
  const tracker = new ReadinessTracker(['pg']);

  before(async () => {
    server = await startOpsServer({ host: '127.0.0.1', port: 0, metrics: new TributaryMetrics({ processMetrics: false }), readiness: () => tracker.report(), logger: silentLogger() });
  });
  after(() => server.close());

  it('is multi-stage on node:20-bookworm-slim, runs as non-root, with the state directory as a volume', () => {
    assert.equal(containerfile.match(/^FROM node:20-bookworm-slim/gm)?.length, 2);
    assert.match(containerfile, /^USER node$/m);
    assert.match(containerfile, /^VOLUME \/var\/lib\/tributary$/m);
  });

  it('has a health check that follows /readyz without curl', async () => {
    const command = JSON.parse(/^HEALTHCHECK .*?CMD (\[.*\])$/m.exec(containerfile)?.[1] ?? 'null') as string[];
    assert.equal(command[0], 'node');
    const check = (): Promise<number> =>
      run('node', command.slice(1), { env: { ...process.env, TRIBUTARY_HEALTH_URL: `${server.url}/readyz` } }).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
    assert.equal(await check(), 1, 'healthy while the source is starting');
    tracker.set('pg', 'streaming');
    assert.equal(await check(), 0, 'unhealthy while streaming');
    assert.match(command[2] ?? '', /'http:\/\/127\.0\.0\.1:9464\/readyz'/);
  });
});

describe('deploy/tributary.env.example', () => {
  it('holds only NAME=value lines and comments', () => {
    for (const line of readFileSync(deploy('tributary.env.example'), 'utf8').split('\n')) {
      assert.match(line, /^(#.*|[A-Z_][A-Z0-9_]*=\S*|)$/, line);
    }
  });
});
