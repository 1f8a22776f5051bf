/**
 * Severity between the two families (shared/spec facts page): legacy 1–2 ↔ IODEF high, 3 ↔ medium, 4–5 ↔ low.
 * Going IODEF → legacy picks the middle of each band (high → 2, low → 4), so legacy → IODEF → legacy keeps the band.
 */
import type { Severity } from './incident.js';

export const IODEF_SEVERITIES = ['low', 'medium', 'high'] as const;
export type IodefSeverity = (typeof IODEF_SEVERITIES)[number];

export function toIodefSeverity(severity: Severity): IodefSeverity {
  if (severity <= 2) return 'high';
  if (severity === 3) return 'medium';
  return 'low';
}

export function fromIodefSeverity(severity: IodefSeverity): Severity {
  switch (severity) {
    case 'high':
      return 2;
    case 'medium':
      return 3;
    case 'low':
      return 4;
  }
}
