// Reading Redis stream replies (XREADGROUP, XAUTOCLAIM, XPENDING) as node-redis hands them back
// with bulk strings as Buffers, in either RESP2 (arrays) or RESP3 (maps) shape. Pure.

export interface StreamEntry {
  /** The entry id, `ms-seq`. */
  readonly id: string;
  /** Redis's time when the entry was added (the id's ms part). */
  readonly ms: number;
  /** The `e` field: the envelope; undefined when the entry has none or was trimmed. */
  readonly envelope: Buffer | undefined;
}

function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
}

/** One entry, `[id, [field, value, ...]]` (fields may be null for an entry trimmed away). */
function entry(raw: unknown): StreamEntry | undefined {
  if (!Array.isArray(raw) || raw.length < 2) return undefined;
  const id = text(raw[0]);
  const ms = Number(id.slice(0, id.indexOf('-')));
  const fields: unknown = raw[1];
  let envelope: Buffer | undefined;
  if (Array.isArray(fields)) {
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (text(fields[i]) === 'e' && Buffer.isBuffer(fields[i + 1])) envelope = fields[i + 1] as Buffer;
    }
  } else if (fields !== null && typeof fields === 'object') {
    const value = (fields as Record<string, unknown>).e;
    if (Buffer.isBuffer(value)) envelope = value;
  }
  return { id, ms, envelope };
}

function entries(list: unknown): StreamEntry[] {
  if (!Array.isArray(list)) return [];
  const out: StreamEntry[] = [];
  for (const raw of list) {
    const parsed = entry(raw);
    if (parsed !== undefined) out.push(parsed);
  }
  return out;
}

/** XREADGROUP over one stream: null (timeout), `[[name, entries]]` (RESP2) or `{ name: entries }` / Map (RESP3). */
export function readGroupEntries(reply: unknown): StreamEntry[] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    const first: unknown = reply[0];
    return Array.isArray(first) ? entries(first[1]) : [];
  }
  if (reply instanceof Map) return entries([...reply.values()][0]);
  if (typeof reply === 'object') return entries(Object.values(reply)[0]);
  return [];
}

/** XAUTOCLAIM: `[nextCursor, entries, deletedIds]`. */
export function autoClaimReply(reply: unknown): { cursor: string; entries: StreamEntry[] } {
  if (!Array.isArray(reply)) return { cursor: '0-0', entries: [] };
  return { cursor: text(reply[0]), entries: entries(reply[1]) };
}

/** XPENDING's extended form: `[[id, consumer, idleMs, deliveries], ...]` as id -> deliveries. */
export function pendingCounts(reply: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(reply)) return counts;
  for (const row of reply) {
    if (Array.isArray(row) && row.length >= 4) counts.set(text(row[0]), Number(row[3]));
  }
  return counts;
}
