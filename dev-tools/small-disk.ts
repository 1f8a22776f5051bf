/**
 * A small real filesystem for the disk tests (issue 11: full disk): a tmpfs of a few megabytes mounted on a
 * temp folder, filled on demand. CI and the developers' machines run as root; where mounting is impossible the
 * helper throws, so a disk test fails with that message instead of passing without having run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  dir: string;
  /** Fills the disk until at most `leaveBytes` are free (a filler file). */
  fill(leaveBytes?: number): void;
  /** Removes the filler: the space is back. */
  free(): void;
  freeBytes(): number;
  unmount(): void;
}

export function mountSmallDisk(sizeBytes = 8 << 20): SmallDisk {
  const dir = mkdtempSync(join(tmpdir(), 'incident-bot-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(
      `cannot mount a tmpfs for the disk-full test (${why}); this test needs root (as CI and the developers' machines run) — it did not run`,
    );
  }
  const filler = join(dir, 'filler');
  const freeBytes = () => {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    freeBytes,
    fill(leaveBytes = 0) {
      rmSync(filler, { force: true });
      const size = Math.max(0, freeBytes() - leaveBytes);
      try {
        writeFileSync(filler, Buffer.alloc(size));
      } catch {
        // ENOSPC on the last page: the disk is as full as it gets
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
