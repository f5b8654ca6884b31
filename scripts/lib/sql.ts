/*
 * `wrangler d1 execute --file/--command` takes plain SQL text with no bound parameters, so the
 * scripts build literal statements. Every value goes through `sqlLiteral`; nothing is spliced raw.
 */

export type SqlValue = string | number | null;

export function sqlLiteral(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new Error(`Only safe integers are written as SQL numbers: ${value}`);
    return String(value);
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** `INSERT [OR IGNORE] INTO table (…) VALUES (…) [suffix];` with column names taken from `row`. */
export function insertStatement(
  table: string,
  row: Record<string, SqlValue>,
  options: { orIgnore?: boolean; suffix?: string } = {},
): string {
  const columns = Object.keys(row);
  const values = Object.values(row).map(sqlLiteral);
  const verb = options.orIgnore ? 'INSERT OR IGNORE' : 'INSERT';
  const suffix = options.suffix ? ` ${options.suffix}` : '';
  return `${verb} INTO ${table} (${columns.join(', ')}) VALUES (${values.join(', ')})${suffix};`;
}
