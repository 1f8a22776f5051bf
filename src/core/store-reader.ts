/**
 * Reads a store's files without opening it for writing: nothing is truncated, compacted or checkpointed, so it is
 * safe while the bot runs (tests, the crash script and backups check what is on disk with it).
 */
import { openSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointFile, emptyCheckpoint, type Checkpoint } from './store-checkpoint.js';
import { outboxAfter, readRecordAt, replayLog } from './store-log.js';
import type { OutboxEntry, StoredIncident } from './stored-incident.js';

export interface StoreContents {
  nextNumber: number;
  /** Every committed incident, by ascending #N. */
  incidents: StoredIncident[];
  outbox: OutboxEntry[];
}

export async function readStoreContents(path: string): Promise<StoreContents> {
  const { document } = await CheckpointFile.read(path);
  if (document?.version === 1) return { nextNumber: document.nextNumber, incidents: document.incidents, outbox: document.outbox ?? [] };
  const checkpoint: Checkpoint = document ?? emptyCheckpoint(path);
  const logPath = join(dirname(path), checkpoint.log);
  const { batch } = replayLog(logPath, checkpoint.logOffset, checkpoint.nextNumber);
  const byNumber = new Map<number, StoredIncident>();
  if (checkpoint.index.length > 0) {
    const fd = openSync(logPath, 'r');
    try {
      for (const [number, , , , , offset, length] of checkpoint.index) byNumber.set(number, readRecordAt(fd, { offset, length }, logPath));
    } finally {
      closeSync(fd);
    }
  }
  for (const { record } of batch.records) byNumber.set(record.number, record);
  return {
    nextNumber: batch.nextNumber,
    incidents: [...byNumber.values()].sort((a, b) => a.number - b.number),
    outbox: outboxAfter(checkpoint.outbox, batch),
  };
}
