import { describe, expect, it } from 'vitest';
import { sampleWatchlist } from '../../src/modules/verifications/providers/sample-watchlist';
import {
  MATCH_THRESHOLD,
  nameScore,
  normaliseName,
  screenName,
} from '../../src/modules/verifications/screening';

describe('screening name matching', () => {
  it('normalises accents, case, punctuation, legal forms and word order', () => {
    expect(normaliseName('  Sanctionov, IVAN ')).toBe('ivan sanctionov');
    expect(normaliseName('Ívàn Sänctiönov')).toBe('ivan sanctionov');
    expect(normaliseName('ACME Shell-Holdings Ltd.')).toBe('acme holdings shell');
  });

  it('scores 1 − edit distance / longer length', () => {
    expect(nameScore('Ivan Sanctionov', 'Sanctionov Ivan')).toBe(1);
    // "ivan sanctionov" is 15 characters; one substitution.
    expect(nameScore('Ivan Sanctionow', 'Ivan Sanctionov')).toBeCloseTo(1 - 1 / 15, 10);
    expect(nameScore('', '')).toBe(0);
  });

  it('finds an exact sanctions match at 1, a near one below 1 and nothing for an unrelated name', () => {
    expect(screenName('Ivan Sanctionov', 'Person', sampleWatchlist)).toEqual([
      { entry: expect.objectContaining({ id: 'fsl-001', topics: ['sanction'] }), score: 1 },
    ]);
    const near = screenName('Ivan Sanctionow', 'Person', sampleWatchlist);
    expect(near.map((match) => [match.entry.id, match.score])).toEqual([['fsl-001', 0.93]]);
    expect(near[0]?.score).toBeGreaterThanOrEqual(MATCH_THRESHOLD);
    expect(screenName('Ada Lovelace', 'Person', sampleWatchlist)).toEqual([]);
    // Companies are matched against companies only.
    expect(
      screenName('Acme Shell Holdings', 'Company', sampleWatchlist).map((match) => match.entry.id),
    ).toEqual(['fsl-004']);
    expect(screenName('Acme Shell Holdings', 'Person', sampleWatchlist)).toEqual([]);
  });
});
