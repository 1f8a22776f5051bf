import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnnouncementIndex, announcementIndexPath } from '../../src/gestures/announcement-index.js';

const ROOM = 'ops@conference.example.org';

describe('announcement index', () => {
  it('sits beside the store manifest', () => {
    expect(announcementIndexPath('/var/lib/bot/incidents.json')).toBe('/var/lib/bot/incidents-announcements.mdb');
  });

  it('remembers ids per room, survives a reopen, and forgets the oldest beyond its bound', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'announcement-index-')), 'idx.mdb');
    let index = AnnouncementIndex.open(path, 4);
    await index.remember(ROOM, ['sid-1', 'own-1'], 1);
    await index.remember(ROOM, ['sid-2'], 2);
    expect(index.lookup(ROOM, 'sid-1')).toBe(1);
    expect(index.lookup(ROOM.toUpperCase(), 'own-1')).toBe(1);
    expect(index.lookup('other@conference.example.org', 'sid-1')).toBeUndefined();
    await index.close();

    index = AnnouncementIndex.open(path, 4);
    expect(index.lookup(ROOM, 'sid-2')).toBe(2);
    await index.remember(ROOM, ['sid-3', 'sid-4'], 3);
    expect(index.size).toBe(4);
    expect(index.lookup(ROOM, 'sid-1')).toBeUndefined();
    expect(index.lookup(ROOM, 'own-1')).toBe(1);
    expect(index.lookup(ROOM, 'sid-4')).toBe(3);
    await index.close();
  });
});
