import { getTableColumns, getTableName, is } from 'drizzle-orm';
import { getTableConfig, SQLiteTable, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { describe, expect, it } from 'vitest';
import { type CustomerDataEntry, customerData } from '../../src/db/customer-data';
import * as tenantSchema from '../../src/db/tenant';
import { exportSections } from '../../src/modules/export/schemas';

const referenced = new Set(['customers', 'users', 'organization_people']);
const REFERENCE_COLUMN = /(^|_)(customer|user|person|organization|actor|subject)_id$/;

/** The columns of a table that name a customer, a user, a person or an organization. */
function references(table: SQLiteTable): string[] {
  const named = Object.values(getTableColumns(table))
    .map((column) => column.name)
    .filter((name) => REFERENCE_COLUMN.test(name));
  const foreign = getTableConfig(table)
    .foreignKeys.filter((key) => referenced.has(getTableName(key.reference().foreignTable)))
    .flatMap((key) => key.reference().columns.map((column) => column.name));
  return [...new Set([...named, ...foreign])];
}

/** Everything wrong between a schema and a data map, one line each. */
function mismatches(tables: SQLiteTable[], map: Record<string, CustomerDataEntry>): string[] {
  const entries = Object.values(map);
  const mapped = new Set(entries.map((entry) => entry.table));
  const problems = tables
    .filter((table) => !mapped.has(table) && references(table).length > 0)
    .map(
      (table) => `${getTableName(table)} (${references(table).join(', ')}) is not in the customer-data map`,
    );
  for (const entry of entries) {
    const name = getTableName(entry.table);
    if (!tables.includes(entry.table)) problems.push(`the map names ${name}, which is not in the schema`);
    const columns = getTableColumns(entry.table);
    const erase = entry.erase;
    const named = [
      'tenantId',
      ...entry.ties.map((tie) => tie.column),
      ...('columns' in entry.export ? [...entry.export.columns, entry.export.orderBy] : []),
      ...('withheldBy' in entry.export && entry.export.withheldBy ? [entry.export.withheldBy] : []),
      ...(erase.action === 'scrub' ? Object.keys(erase.set) : []),
      ...(erase.action === 'scrub' && erase.stamp ? [erase.stamp] : []),
      ...(erase.action === 'scrub' && erase.json ? [erase.json.column, erase.json.kind] : []),
      ...Object.keys(entry.sealed ?? {}),
    ];
    for (const column of named) {
      if (!(column in columns)) problems.push(`the map names ${name}.${column}, which does not exist`);
    }
  }
  return problems;
}

const schemaTables: SQLiteTable[] = (Object.values(tenantSchema) as unknown[]).filter(
  (value): value is SQLiteTable => is(value, SQLiteTable),
);

describe('the customer-data map (src/db/customer-data.ts)', () => {
  it('covers every table that names a customer, user, person or organization, and names only real columns', () => {
    expect(mismatches(schemaTables, customerData)).toEqual([]);
  });

  it('fails for a new table that names a customer and for a column the map invents', () => {
    const documents = sqliteTable('documents', {
      id: text('id').primaryKey(),
      tenantId: text('tenant_id').notNull(),
      customerId: text('customer_id').notNull(),
    });
    const notes = sqliteTable('notes', {
      id: text('id').primaryKey(),
      tenantId: text('tenant_id').notNull(),
      authorRef: text('author_ref').references(() => tenantSchema.users.id),
    });
    const invented = {
      ...customerData,
      sessions: { ...customerData.sessions, ties: [{ column: 'ownerId', holds: 'logins' }] },
    } as Record<string, CustomerDataEntry>;
    expect(mismatches([...schemaTables, documents, notes], invented)).toEqual([
      'documents (customer_id) is not in the customer-data map',
      'notes (author_ref) is not in the customer-data map',
      'the map names sessions.ownerId, which does not exist',
    ]);
  });

  it('reads whole only tables with one tie, and pages only tables keyed by id', () => {
    for (const [name, entry] of Object.entries(customerData as Record<string, CustomerDataEntry>)) {
      if (!('part' in entry.export)) continue;
      const paged = (exportSections as readonly string[]).includes(entry.export.part);
      if (paged) expect({ name, orderBy: entry.export.orderBy }).toEqual({ name, orderBy: 'id' });
      else expect({ name, ties: entry.ties.length }).toEqual({ name, ties: 1 });
    }
  });
});
