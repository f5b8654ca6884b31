/*
 * Reads and edits the `[[d1_databases]]` blocks of wrangler.toml as text. The scripts need only
 * those blocks, which hold plain `key = "string"` pairs; editing text (rather than re-serialising
 * a parsed document) keeps the file's comments and layout intact.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';

export interface D1Binding {
  binding: string;
  database_name: string;
  database_id: string;
  migrations_dir?: string;
}

interface Block {
  /** Index of the `[[d1_databases]]` line. */
  start: number;
  /** Index one past the block's last non-blank line. */
  end: number;
  values: Record<string, string>;
}

const HEADER = /^\s*\[/;
/** `[[d1_databases]]`, or `[[env.<name>.d1_databases]]` for an environment's (they are not inherited). */
function d1Header(environment?: string): RegExp {
  const table = environment ? `env\\.${environment}\\.d1_databases` : 'd1_databases';
  return new RegExp(`^\\s*\\[\\[\\s*${table}\\s*\\]\\]\\s*(#.*)?$`);
}
const STRING_PAIR = /^\s*([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(#.*)?$/;

function d1Blocks(lines: string[], environment?: string): Block[] {
  const header = d1Header(environment);
  const blocks: Block[] = [];
  let current: Block | undefined;
  lines.forEach((line, index) => {
    if (HEADER.test(line)) {
      current = header.test(line) ? { start: index, end: index + 1, values: {} } : undefined;
      if (current) blocks.push(current);
      return;
    }
    if (!current || !line.trim() || line.trim().startsWith('#')) return;
    current.end = index + 1;
    const pair = STRING_PAIR.exec(line);
    if (pair?.[1]) current.values[pair[1]] = pair[2] ?? pair[3] ?? '';
  });
  return blocks;
}

function toBinding(values: Record<string, string>): D1Binding | undefined {
  const { binding, database_name, database_id, migrations_dir } = values;
  if (!binding || !database_name || !database_id) return undefined;
  return { binding, database_name, database_id, ...(migrations_dir ? { migrations_dir } : {}) };
}

/** The top level's D1 bindings, or those of `environment`. */
export function d1Bindings(configText: string, environment?: string): D1Binding[] {
  return d1Blocks(configText.split('\n'), environment).flatMap((block) => toBinding(block.values) ?? []);
}

/**
 * Returns the config with `entry` declared: a new block after the last D1 block (so the bindings
 * stay together), or, when the binding exists, its `database_id` replaced.
 */
export function withD1Binding(configText: string, entry: D1Binding, environment?: string): string {
  const lines = configText.split('\n');
  const blocks = d1Blocks(lines, environment);
  const existing = blocks.find((block) => block.values.binding === entry.binding);
  if (existing) {
    for (let index = existing.start + 1; index < existing.end; index++) {
      if (STRING_PAIR.exec(lines[index] ?? '')?.[1] === 'database_id') {
        lines[index] = `database_id = "${entry.database_id}"`;
      }
    }
    return lines.join('\n');
  }
  const block = [
    '',
    environment ? `[[env.${environment}.d1_databases]]` : '[[d1_databases]]',
    ...Object.entries(entry).map(([key, value]) => `${key} = "${value}"`),
  ];
  const last = blocks.at(-1);
  if (!last) return `${configText.trimEnd()}\n${block.join('\n')}\n`;
  lines.splice(last.end, 0, ...block);
  return lines.join('\n');
}

/**
 * Rewrites wrangler.toml in place so that a running `wrangler dev`, which reloads whenever the
 * file changes, never reads it half-written. A plain write truncates first, and wrangler dev read
 * the empty file and exited ("Missing entry-point to Worker script"); a rename loses its file
 * watcher, so the next change goes unseen. Here the file changes once, after the whole text is in:
 * a shorter text is padded with blank lines to the old length (still the same TOML) and then cut.
 */
export function rewriteConfig(path: string, text: string | Buffer): void {
  const bytes = Buffer.from(text);
  const fd = openSync(path, 'r+');
  try {
    const padding = Math.max(0, fstatSync(fd).size - bytes.length);
    const padded = Buffer.concat([bytes, Buffer.alloc(padding, '\n')]);
    for (let written = 0; written < padded.length; ) {
      written += writeSync(fd, padded, written, padded.length - written, written);
    }
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}
