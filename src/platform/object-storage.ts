/** R2's `delete` takes at most this many keys at once; `list` returns at most as many. */
const R2_BATCH = 1000;

/** Deletes every object under `prefix`, a listed page at a time. */
export async function deleteUnderPrefix(bucket: R2Bucket, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await bucket.list({ prefix, limit: R2_BATCH, ...(cursor ? { cursor } : {}) });
    const keys = page.objects.map((object) => object.key);
    if (keys.length > 0) await bucket.delete(keys);
    deleted += keys.length;
    if (!page.truncated) return deleted;
    cursor = page.cursor;
  }
}
