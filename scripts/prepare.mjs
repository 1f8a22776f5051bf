#!/usr/bin/env node
/**
 * The pre-step of `npm test` and `npm run demo` (and of .ci/run): plain Node, no dependencies, so it runs on a fresh
 * clone before `npm ci`. It makes the machine ready, or says exactly what to run:
 * - the npm dependencies, when node_modules is missing or older than package-lock.json (`npm ci`);
 * - the Debian packages the harness starts (Prosody and its community modules, ejabberd for the tests, openssl for
 *   test certificates, procps for pgrep), with apt-get when they are missing and we run as root — their services
 *   kept from starting (policy-rc.d) and stopped if they did: the tests start their own throwaway servers.
 * Otherwise it prints the command to run and exits 1.
 *
 * Usage: node scripts/prepare.mjs [test|demo] [--dry-run]   (--dry-run: print the plan as JSON, change nothing)
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Debian package → how to tell it is installed. `for`: which commands need it. */
export const DEBIAN_NEEDS = [
  { pkg: 'prosody', command: 'prosodyctl', for: ['test', 'demo'] },
  { pkg: 'prosody-modules', file: '/usr/lib/prosody/modules/mod_muc_rtbl', for: ['test', 'demo'] },
  { pkg: 'ejabberd', command: 'ejabberdctl', for: ['test'] },
  { pkg: 'openssl', command: 'openssl', for: ['test'] },
  { pkg: 'procps', command: 'pgrep', for: ['test'] },
];

/**
 * What to do, decided from facts only (unit-tested): `npm ci` when the dependencies are missing or older than the
 * lock file; the missing packages installed by us (root with apt-get) or left to the reader with the command.
 */
export function plan({ purpose, lockMtimeMs, installedMtimeMs, missingPackages, isRoot, hasAptGet }) {
  const steps = [];
  if (installedMtimeMs === undefined || installedMtimeMs < lockMtimeMs) steps.push({ kind: 'npm-ci' });
  const wanted = missingPackages.filter((p) => p.for.includes(purpose)).map((p) => p.pkg);
  if (wanted.length > 0) {
    const command = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${wanted.join(' ')}`;
    if (isRoot && hasAptGet) steps.push({ kind: 'apt-get', packages: wanted });
    else steps.push({ kind: 'tell', packages: wanted, command: isRoot || !hasAptGet ? command : `sudo sh -c '${command}'` });
  }
  return steps;
}

/**
 * The system services to stop after installing `packages`: only those we just installed (their Debian packages
 * start them on a systemd host, where policy-rc.d is ignored). A Prosody that was already there and running is the
 * machine owner's, and stays up.
 */
export function servicesToStop(packages) {
  return ['prosody', 'ejabberd'].filter((service) => packages.includes(service));
}

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

function installed(need) {
  if (need.command) return onPath(need.command) || existsSync(join('/usr/sbin', need.command)) || existsSync(join('/usr/bin', need.command));
  return existsSync(need.file) || existsSync(`${need.file}.lua`);
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function run(command, args) {
  process.stdout.write(`prepare: ${command} ${args.join(' ')}\n`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) {
    process.stderr.write(`prepare: ${command} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(1);
  }
}

/** apt-get install with the packages' services kept from starting (Debian's policy-rc.d: 101 = forbidden). */
function aptInstall(packages) {
  const policy = '/usr/sbin/policy-rc.d';
  const ours = !existsSync(policy);
  if (ours) {
    writeFileSync(policy, '#!/bin/sh\nexit 101\n');
    chmodSync(policy, 0o755);
  }
  try {
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', ...packages]);
  } finally {
    if (ours) rmSync(policy, { force: true });
  }
  // systemd hosts ignore policy-rc.d: stop what started anyway.
  const stop = servicesToStop(packages);
  for (const service of stop) spawnSync('service', [service, 'stop'], { stdio: 'ignore' });
  if (!stop.includes('prosody')) return;
  for (const pidFile of ['/run/prosody/prosody.pid', '/var/run/prosody/prosody.pid']) {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      // An empty or odd file must not become kill(0): that would signal our own process group (npm included).
      if (Number.isInteger(pid) && pid > 1) process.kill(pid, 'SIGTERM');
    } catch {
      // not running
    }
  }
}

function main() {
  const purpose = process.argv.includes('demo') ? 'demo' : 'test';
  const steps = plan({
    purpose,
    lockMtimeMs: mtime(join(root, 'package-lock.json')) ?? 0,
    installedMtimeMs: mtime(join(root, 'node_modules', '.package-lock.json')),
    missingPackages: DEBIAN_NEEDS.filter((need) => !installed(need)),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    hasAptGet: onPath('apt-get'),
  });
  if (process.argv.includes('--dry-run')) {
    process.stdout.write(`${JSON.stringify(steps)}\n`);
    return;
  }
  for (const step of steps) {
    if (step.kind === 'npm-ci') run('npm', ['ci', '--no-audit', '--no-fund']);
    else if (step.kind === 'apt-get') aptInstall(step.packages);
    else {
      process.stderr.write(
        `prepare: missing Debian packages for \`npm ${purpose === 'demo' ? 'run demo' : 'test'}\`: ${step.packages.join(', ')}.\n` +
          `Install them (as root), then run the command again:\n\n  ${step.command}\n\n`,
      );
      process.exit(1);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
