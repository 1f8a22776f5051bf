import { describe, expect, it } from 'vitest';
import { metronomeView, profileOfSoftware, shapeForProfile } from '../../src/protocol/peer-profile.js';
import { decodeIodef, encodeIodef } from '../../src/protocol/iodef.js';
import { emptyIncident } from '../../src/protocol/incident.js';

function sample() {
  const i = emptyIncident('inc-1');
  i.site = 'peer.example';
  i.sources = [{ addresses: [{ kind: 'jid', value: 'spammer@evil.example' }], counters: [], roles: [] }];
  i.texts = [{ lang: 'en', text: 'spam' }];
  i.history = [{ action: 'status-triage', time: '2026-12-03T10:00:00Z', who: 'alice@example.org', texts: [{ text: 'on it' }] }];
  i.solutions = [{ texts: [{ text: 'blocked' }], sources: [], time: '2026-12-03T11:00:00Z', who: 'alice@example.org' }];
  return i;
}

describe('peer profiles', () => {
  it('are told by the software name', () => {
    expect(profileOfSoftware('Metronome')).toBe('metronome');
    expect(profileOfSoftware('Prosody')).toBe('standard');
    expect(profileOfSoftware(undefined)).toBeUndefined();
  });

  it("metronome: counters on sources, a target with a role, history and solutions as dated lines in the text", () => {
    const view = metronomeView(sample(), 'example.org');
    expect(view.sources[0]!.counters).toEqual([{ type: 'event', value: 1 }]);
    expect(view.targets).toEqual([{ addresses: [{ kind: 'jid', value: 'example.org' }], counters: [], roles: ['messaging'] }]);
    expect(view.history).toEqual([]);
    expect(view.solutions).toEqual([]);
    expect(view.texts[0]!.text).toBe('spam\n\n[2026-12-03T10:00:00Z] alice@example.org: status-triage — on it\n[2026-12-03T11:00:00Z] alice@example.org: solution — blocked');
  });

  it('reshapes a report for metronome and leaves standard peers and inquiries alone', () => {
    const report = encodeIodef('report', sample());
    expect(shapeForProfile(report, 'standard', 'example.org')).toBe(report);
    const inquiry = encodeIodef('inquiry', sample());
    expect(shapeForProfile(inquiry, 'metronome', 'example.org')).toBe(inquiry);
    const shaped = shapeForProfile(report, 'metronome', 'example.org');
    expect(shaped.toString()).not.toContain('HistoryItem');
    const decoded = decodeIodef(shaped);
    expect(decoded.ok && decoded.value.incident.targets.length).toBe(1);
  });
});
