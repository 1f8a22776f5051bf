/**
 * How the store's values are laid out in the database: one format byte, a CRC-32 of the payload, and the payload:
 * JSON (UTF-8), as readable in a dump as the store's earlier log was, and in V8 cheaper to write than
 * MessagePack (JSON.stringify is native; format 1, MessagePack, is still read).
 *
 * LMDB checks its own page structure but not the bytes of a value, so a flipped bit inside a record would decode
 * into a wrong incident or garbage. The checksum turns that into a clear error naming the damaged record; the
 * error text never carries the stored bytes (they could be anything, and errors can end up in a room).
 */
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import type { IncidentVersion, StoredIncident } from './stored-incident.js';

const MSGPACK = 1;
const JSON_UTF8 = 2;
const HEADER = 5;

const packr = new Packr({ useRecords: false, moreTypes: false });

/** A stored value failed its check: the store file is damaged at this place. */
export class StoreDamagedError extends Error {
  constructor(
    /** What is damaged, for humans: "incident #12", "outbox entry 3", "store metadata (nextNumber)". */
    readonly what: string,
    readonly why: string,
  ) {
    super(`${what} is damaged in the incident store (${why}); restore the store from a backup, or run incident-bot --repair-store to set the damaged records aside (docs/deploying.md)`);
    this.name = 'StoreDamagedError';
  }
}

export function encodeValue(value: unknown): Buffer {
  const json = JSON.stringify(value) ?? 'null';
  const out = Buffer.allocUnsafe(HEADER + Buffer.byteLength(json));
  out[0] = JSON_UTF8;
  const payload = out.subarray(HEADER);
  payload.write(json, 'utf8');
  out.writeUInt32BE(crc32(payload), 1);
  return out;
}

/** Decodes a value read from the database; `bytes` may be a view that the next read reuses (it is not kept). */
export function decodeValue<T>(bytes: Uint8Array, what: string): T {
  if (bytes.length < HEADER) throw new StoreDamagedError(what, 'value too short');
  const format = bytes[0];
  if (format !== JSON_UTF8 && format !== MSGPACK) throw new StoreDamagedError(what, `unknown value format ${format}`);
  // `length`, not `byteLength`: lmdb-js's fast reads return a view of a shared buffer whose byteLength is the whole buffer.
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const payload = view.subarray(HEADER);
  if (crc32(payload) !== view.readUInt32BE(1)) throw new StoreDamagedError(what, 'checksum mismatch');
  try {
    return (format === JSON_UTF8 ? JSON.parse(payload.toString('utf8')) : packr.unpack(payload)) as T;
  } catch {
    throw new StoreDamagedError(what, 'undecodable value');
  }
}

/**
 * A new incident's first version and its current state are the same object until something changes the incident
 * (see editableIncident): the record then carries the incident once, and the first version says "as current".
 */
interface StoredVersion extends Omit<IncidentVersion, 'incident'> {
  incident?: IncidentVersion['incident'];
  asCurrent?: true;
}

export function encodeRecord(stored: StoredIncident): Buffer {
  const first = stored.versions[0];
  if (!first || first.incident !== stored.incident) return encodeValue(stored);
  const { incident: _same, ...rest } = first;
  const versions: StoredVersion[] = [{ ...rest, asCurrent: true }, ...stored.versions.slice(1)];
  return encodeValue({ ...stored, versions });
}

export function decodeRecord(bytes: Uint8Array, number: number): StoredIncident {
  const stored = decodeValue<StoredIncident>(bytes, `incident #${number}`);
  const first = stored.versions?.[0] as StoredVersion | undefined;
  if (first?.asCurrent) {
    delete first.asCurrent;
    first.incident = stored.incident;
  }
  if (typeof stored.number !== 'number' || typeof stored.key !== 'string' || !stored.incident) {
    throw new StoreDamagedError(`incident #${number}`, 'not an incident record');
  }
  return stored;
}
