/**
 * Packaging (issue 17): the packed tarball installs globally (into a temp prefix) and its `incident-bot` runs; the
 * systemd unit, the container files and the alert rules shipped in the repository are the ones the manual names.
 * Docker itself cannot run here: what it would check is read from the files instead (see docs/deploying.md).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('installs globally and `incident-bot --version` prints the version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'incident-bot-pack-'));
    dirs.push(dir);
    const packed = await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: root });
    const { filename, files } = (JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>)[0]!;
    const paths = files.map((f) => f.path);
    expect(paths).toContain('bin/incident-bot.js');
    expect(paths).toContain('src/main.ts');
    expect(paths).toContain('contrib/incident-bot.service');
    expect(paths.some((p) => p.startsWith('test/') || p.startsWith('bench/') || p.startsWith('dev-tools/'))).toBe(false);
    const prefix = join(dir, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', join(dir, filename)], { cwd: dir, timeout: 240_000 });
    const bin = join(prefix, 'bin', 'incident-bot');
    expect(existsSync(bin)).toBe(true);
    const version = await run(bin, ['--version'], { cwd: dir });
    expect(version.stdout.trim()).toBe(pkg.version);
  }, 300_000);
});

describe('what the repository ships for operators', () => {
  it('the systemd unit: hardened, reloads with SIGHUP, does not restart a bad config', () => {
    const unit = readFileSync(join(root, 'contrib/incident-bot.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/local\/bin\/incident-bot --config \/etc\/incident-bot\.json$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toMatch(/^RestartPreventExitStatus=2$/m);
    expect(unit).toMatch(/^After=.*prosody\.service ejabberd\.service/m);
    expect(readFileSync(join(root, 'docs/deploying.md'), 'utf8')).toContain('contrib/incident-bot.service');
  });

  it('the container: non-root, the store on a volume, a health check on /healthz, and a config that loads', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-[a-z]+-slim$/m);
    expect(dockerfile).toMatch(/^USER incident-bot$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    const config = parseConfig(JSON.parse(readFileSync(join(root, 'contrib/docker.config.json'), 'utf8')), 'docker.config.json', {
      INCIDENT_BOT_PASSWORD: 'x',
    });
    expect(config.storage.path.startsWith('/data/')).toBe(true);
    expect(config.http?.listen).toBe('0.0.0.0:9468');
    expect(readFileSync(join(root, 'compose.yaml'), 'utf8')).toContain('./contrib/docker.config.json:/etc/incident-bot.json:ro');
  });

  it('the alert rules use metrics the bot exposes', () => {
    const rules = readFileSync(join(root, 'contrib/prometheus-alerts.yml'), 'utf8');
    const metricsSource = readFileSync(join(root, 'src/ops/metrics.ts'), 'utf8');
    const used = [...new Set(rules.match(/incident_bot_[a-z_]+/g) ?? [])];
    expect(used.length).toBeGreaterThanOrEqual(5);
    for (const name of used) expect(metricsSource, name).toContain(`'${name}'`);
  });
});
