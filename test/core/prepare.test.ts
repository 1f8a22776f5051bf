/** The pre-step's decisions (scripts/prepare.mjs): what a fresh or stale machine gets, and what a non-root user is told. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript on purpose: it runs before `npm ci`, without TypeScript.
import { DEBIAN_NEEDS, plan, servicesToStop } from '../../scripts/prepare.mjs';

type Need = { pkg: string; for: string[] };
const needs = DEBIAN_NEEDS as Need[];
const all = { purpose: 'test', lockMtimeMs: 1000, installedMtimeMs: 2000, missingPackages: [] as Need[], isRoot: true, hasAptGet: true };

describe('prepare', () => {
  it('does nothing on a ready machine', () => {
    expect(plan(all)).toEqual([]);
  });

  it('runs npm ci when node_modules is missing or older than the lock file', () => {
    expect(plan({ ...all, installedMtimeMs: undefined })).toEqual([{ kind: 'npm-ci' }]);
    expect(plan({ ...all, installedMtimeMs: 500 })).toEqual([{ kind: 'npm-ci' }]);
  });

  it('installs what is missing as root, or prints the exact command otherwise', () => {
    expect(plan({ ...all, missingPackages: needs })).toEqual([
      { kind: 'apt-get', packages: ['prosody', 'prosody-modules', 'ejabberd', 'openssl', 'procps'] },
    ]);
    const told = plan({ ...all, isRoot: false, missingPackages: needs.filter((n) => n.pkg === 'prosody') });
    expect(told).toEqual([
      { kind: 'tell', packages: ['prosody'], command: "sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y prosody'" },
    ]);
  });

  it("stops only the services it installed, never a server that was already there", () => {
    expect(servicesToStop(['prosody', 'prosody-modules', 'ejabberd', 'openssl'])).toEqual(['prosody', 'ejabberd']);
    expect(servicesToStop(['ejabberd', 'procps'])).toEqual(['ejabberd']);
    expect(servicesToStop(['openssl'])).toEqual([]);
  });

  it('asks only what the demo needs for the demo (no ejabberd; prosody-modules for its mod_muc_rtbl lobby)', () => {
    expect(plan({ ...all, purpose: 'demo', missingPackages: needs })).toEqual([
      { kind: 'apt-get', packages: ['prosody', 'prosody-modules'] },
    ]);
  });

  it('as a script, recognises the Debian packages this machine has (the suite runs: they are there)', () => {
    // --dry-run: the plan only. A stale node_modules may ask for `npm ci`; the packages must not be asked for.
    const run = spawnSync(process.execPath, ['scripts/prepare.mjs', 'test', '--dry-run'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    const steps = JSON.parse(run.stdout) as { kind: string }[];
    expect(steps.filter((s) => s.kind !== 'npm-ci')).toEqual([]);
  });
});
