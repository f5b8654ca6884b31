import { LruCache } from './lru-cache';

/**
 * A per-isolate memory of what a tenant's database says, for reads so frequent that their D1
 * round trip is most of their cost (`GET /me`). What it remembers is forgotten:
 *
 * - in this isolate, by every commit of the tenant (`tenantChanged`, called by `commit` in
 *   unit-of-work.ts, which every write of a service goes through), so a writer never has to
 *   know which memories its write concerns: none can be forgotten by a new write path;
 * - everywhere, `ttlMs` after it was read, which bounds what another isolate's writes leave
 *   stale here.
 *
 * A read racing a commit cannot keep what it read from before the commit: the read files its
 * answer on the tenant's shelf as it was when the read began, and the commit throws that shelf
 * away. Dropping a shelf also drops its entries for the garbage collector, so personal data of
 * an erased customer (whose erasure is a commit) is not left reachable in this isolate.
 */
export class TenantMemory<V> {
  private readonly shelves: LruCache<string, LruCache<string, { value: V; readAtMs: number }>>;

  constructor(
    private readonly options: {
      ttlMs: number;
      /** Bounds: at most `tenants × entriesPerTenant` entries, least recently used forgotten first. */
      tenants: number;
      entriesPerTenant: number;
    },
  ) {
    this.shelves = new LruCache(options.tenants);
    memories.add(this as TenantMemory<unknown>);
  }

  /** The remembered answer for `key`, else `read()`'s, remembered unless it throws. */
  async through(tenantId: string, key: string, read: () => Promise<V>, nowMs = Date.now()): Promise<V> {
    let shelf = this.shelves.get(tenantId);
    if (!shelf) {
      shelf = new LruCache(this.options.entriesPerTenant);
      this.shelves.set(tenantId, shelf);
    }
    const known = shelf.get(key);
    if (known && nowMs - known.readAtMs < this.options.ttlMs) return known.value;
    const value = await read();
    shelf.set(key, { value, readAtMs: nowMs });
    return value;
  }

  forget(tenantId: string): void {
    this.shelves.delete(tenantId);
  }
}

const memories = new Set<TenantMemory<unknown>>();

/** Something of the tenant's was written: every memory of it in this isolate is forgotten. */
export function tenantChanged(tenantId: string): void {
  for (const memory of memories) memory.forget(tenantId);
}
