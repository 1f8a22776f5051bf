/**
 * "Did you mean": the command a mistyped `!word` was probably meant to be. Close enough is a small edit distance
 * (fastest-levenshtein) for the word's length, or a word that starts with a command name (`!acknowledge` → `!ack`).
 * Anything further is left alone: other bots in the room may own that `!word`.
 */
import { distance } from 'fastest-levenshtein';

/** The closest command name to `word`, or undefined when none is close. */
export function closestCommand(word: string, names: readonly string[]): string | undefined {
  const typed = word.toLowerCase();
  if (typed.length < 2) return undefined;
  let best: { name: string; score: number } | undefined;
  for (const name of names) {
    const d = distance(typed, name);
    const allowed = name.length <= 3 ? 1 : 2;
    // A longer spelling of a short command (`acknowledge`, `solved`, `listing`): the command is its start.
    const prefix = name.length >= 3 && typed.startsWith(name) ? 0.5 : Number.POSITIVE_INFINITY;
    const score = Math.min(d <= allowed ? d : Number.POSITIVE_INFINITY, prefix);
    if (score !== Number.POSITIVE_INFINITY && (!best || score < best.score)) best = { name, score };
  }
  return best?.name;
}
