import { distance } from 'fastest-levenshtein';
import type { WatchlistEntry } from './providers/sample-watchlist';

/**
 * Name matching for screening, reproducible by hand (docs/api.md, Verification):
 * 1. Unicode NFKD, combining marks dropped (é → e), case folded;
 * 2. anything but letters and digits becomes a space; legal-form words (ltd, plc, …) dropped;
 * 3. the words sorted, so "Sanctionov Ivan" equals "Ivan Sanctionov".
 * The score is 1 − Levenshtein distance / length of the longer normalised name.
 */
const LEGAL_FORMS = new Set([
  'ltd',
  'limited',
  'plc',
  'llc',
  'inc',
  'gmbh',
  'ag',
  'sa',
  'sarl',
  'bv',
  'co',
  'corp',
]);

export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .split(' ')
    .filter((word) => word.length > 0 && !LEGAL_FORMS.has(word))
    .sort()
    .join(' ');
}

export function nameScore(a: string, b: string): number {
  const left = normaliseName(a);
  const right = normaliseName(b);
  const longest = Math.max(left.length, right.length);
  if (longest === 0) return 0;
  return 1 - distance(left, right) / longest;
}

/** A candidate at or above this score is a hit (yente's default threshold is 0.70; names alone call for more). */
export const MATCH_THRESHOLD = 0.85;

export interface ScreeningMatch {
  entry: WatchlistEntry;
  /** Rounded to 2 decimals; 1 is an exact match after normalisation. */
  score: number;
}

export function screenName(
  name: string,
  schema: WatchlistEntry['schema'],
  list: readonly WatchlistEntry[],
): ScreeningMatch[] {
  return list
    .filter((entry) => entry.schema === schema)
    .map((entry) => ({ entry, score: Math.round(nameScore(name, entry.caption) * 100) / 100 }))
    .filter((match) => match.score >= MATCH_THRESHOLD)
    .sort((a, b) => b.score - a.score);
}
