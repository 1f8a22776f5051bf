/**
 * One writer per store: two bots appending to the same log would interleave batches and corrupt each other's
 * offsets. The lock is a file holding the owner's PID, created exclusively; a lock whose process is gone (the bot
 * was killed) is stale and taken over.
 */
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';

export class StoreLock {
  private constructor(private readonly path: string) {}

  static acquire(storePath: string): StoreLock {
    const path = `${storePath}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
        return new StoreLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      // Our own PID: the same process opening the store again (tests reopen without closing); not another writer.
      if (owner === process.pid) return new StoreLock(path);
      if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
        throw new Error(`the incident store ${storePath} is in use by process ${owner} (lock file ${path})`);
      }
      unlinkSync(path);
    }
    throw new Error(`cannot lock the incident store ${storePath} (lock file ${path})`);
  }

  release(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // already gone: nothing to release
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
