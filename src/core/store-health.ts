/**
 * Whether the store can write, told once per change: a failed write (a full disk, an I/O error) makes it
 * unhealthy — said once — and a write every few seconds (`probe`) finds out when it can write again, even if no
 * report comes meanwhile. A write that succeeds, the probe's or a real one, makes it healthy again.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StoreWriteError } from './store-db.js';

/** Whether the store can write; `since` is when that last changed (wall time, for people). */
export type StoreHealth = { ok: true; since: string } | { ok: false; since: string; diskFull: boolean; problem: string };

/** Below this much free space a failed write counts as "disk full" whatever error the kernel gave (EIO, …). */
const NEARLY_FULL_BYTES = 4 * 1024 * 1024;

export class HealthWatch {
  private state: StoreHealth = { ok: true, since: new Date().toISOString() };
  private readonly listeners = new Set<(health: StoreHealth) => void>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    /** The database file (its filesystem is the one that may be full). */
    private readonly file: string,
    private readonly intervalMs: number,
    /** Tries a write: 'ok', 'failed', or 'busy' (a real write is under way and will tell). */
    private readonly probe: () => Promise<'ok' | 'failed' | 'busy'>,
  ) {}

  get current(): StoreHealth {
    return this.state;
  }

  get ok(): boolean {
    return this.state.ok;
  }

  onChange(listener: (health: StoreHealth) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A write failed: marks the error as a full disk when it is one, says so (once), and starts probing. */
  failed(err: StoreWriteError): void {
    err.diskFull = err.code === 'ENOSPC' || err.code === 'EDQUOT' || freeBytes(this.file) < NEARLY_FULL_BYTES;
    if (this.state.ok) {
      this.set({ ok: false, since: new Date().toISOString(), diskFull: err.diskFull, problem: err.diskFull ? 'the disk is full' : err.reason });
    }
    this.schedule();
  }

  /** A write succeeded. */
  succeeded(): void {
    if (!this.state.ok) this.set({ ok: true, since: new Date().toISOString() });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private set(health: StoreHealth): void {
    this.state = health;
    for (const listener of this.listeners) {
      try {
        listener(health);
      } catch {
        // a listener's failure is its own business
      }
    }
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tryWrite();
    }, this.intervalMs);
    this.timer.unref();
  }

  private async tryWrite(): Promise<void> {
    if (this.state.ok || this.stopped) return;
    const outcome = await this.probe().catch(() => 'failed' as const);
    if (outcome === 'ok') this.succeeded();
    else this.schedule();
  }
}

function freeBytes(file: string): number {
  try {
    const s = statfsSync(dirname(file));
    return s.bavail * s.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
