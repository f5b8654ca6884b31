/**
 * The current time as an ISO 8601 string, for what every request writes (the health body, the
 * log line). Formatting a date costs more than the rest of a health answer, and at a few
 * requests a millisecond most of them share one: the last one formatted is kept.
 */
let lastFormatted = { ms: Number.NaN, iso: '' };

export function isoTime(ms: number = Date.now()): string {
  if (lastFormatted.ms !== ms) lastFormatted = { ms, iso: new Date(ms).toISOString() };
  return lastFormatted.iso;
}
