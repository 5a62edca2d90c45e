import * as mysql from 'mysql2/promise';

/**
 * BENCH ONLY: when did a target take a record, and which change did the record carry?
 *
 * The simulators keep what they hold but not when they received it, so the bench observes the writes itself:
 *  - the in-process HTTP simulators (ga-ldrk SOAP, the REST inboxes) keep their records in a private `store` Map;
 *    `observeStore` wraps that one Map instance's `set`, which the simulator calls synchronously while handling the
 *    request, right before it writes its answer. Nothing else of the simulator changes.
 *  - the zz-grid simulator is a MariaDB database the hub writes to directly; `installGridObserver` adds a table and
 *    AFTER INSERT / AFTER UPDATE triggers on stg_person that note the key, the phone and SYSDATE(6) inside the
 *    hub's own transaction (a rolled-back write leaves no row). That is the write time, a few milliseconds before
 *    the hub's COMMIT acknowledges it.
 * Every change of the sustained phase gives the resident a new phone number that encodes the change's sequence
 * number, so a receipt says which change (or a newer one) the target received.
 */

export interface Receipt {
  /** The target's key: the ID number. */
  key: string;
  /** Change sequence number carried by the phone, or -1 for a phone the bench did not write. */
  seq: number;
  /** Epoch milliseconds. */
  at: number;
}

const CHANGE_PHONE_PREFIX = '139';

/** The phone number of change `seq` (13900000000 + seq). */
export function changePhone(seq: number): string {
  if (seq < 0 || seq > 99_999_999) throw new RangeError('change sequence out of range');
  return `${CHANGE_PHONE_PREFIX}${String(seq).padStart(8, '0')}`;
}

export function seqOfPhone(phone: unknown): number {
  if (typeof phone !== 'string' || !phone.startsWith(CHANGE_PHONE_PREFIX) || phone.length !== 11) return -1;
  return Number(phone.slice(3));
}

/** Wraps `set` of the simulator's record Map; returns the receipts list it fills. */
export function observeStore(simulator: object, phoneField: (record: Record<string, unknown>) => unknown): Receipt[] {
  const store = (simulator as { store?: unknown }).store;
  if (!(store instanceof Map)) throw new Error('the simulator has no record store to observe (its internals changed)');
  const receipts: Receipt[] = [];
  const original = store.set.bind(store);
  store.set = (key: unknown, value: unknown) => {
    receipts.push({ key: String(key), seq: seqOfPhone(phoneField(value as Record<string, unknown>)), at: Date.now() });
    return original(key, value);
  };
  return receipts;
}

/** Adds the receipt table and triggers to the zz-grid simulator's database (created by the simulator). */
export async function installGridObserver(serverUrl: string, database: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: serverUrl, database, multipleStatements: false });
  try {
    await conn.query(`CREATE TABLE IF NOT EXISTS bench_receipt (
      id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, IDCARDNO VARCHAR(18) NOT NULL, MOBILENUMBER VARCHAR(20) NULL, AT_EPOCH DECIMAL(17,6) NOT NULL
    ) ENGINE=InnoDB`);
    for (const event of ['INSERT', 'UPDATE']) {
      await conn.query(`CREATE OR REPLACE TRIGGER bench_receipt_after_${event.toLowerCase()} AFTER ${event} ON stg_person FOR EACH ROW
        INSERT INTO bench_receipt (IDCARDNO, MOBILENUMBER, AT_EPOCH) VALUES (NEW.IDCARDNO, NEW.MOBILENUMBER, UNIX_TIMESTAMP(SYSDATE(6)))`);
    }
  } finally {
    await conn.end();
  }
}

export async function readGridReceipts(serverUrl: string, database: string): Promise<Receipt[]> {
  const conn = await mysql.createConnection({ uri: serverUrl, database });
  try {
    const [rows] = await conn.query(`SELECT IDCARDNO AS k, MOBILENUMBER AS p, AT_EPOCH AS t FROM bench_receipt ORDER BY id`);
    return (rows as { k: string; p: string | null; t: string }[]).map((r) => ({ key: r.k, seq: seqOfPhone(r.p), at: Number(r.t) * 1000 }));
  } finally {
    await conn.end();
  }
}

/** One committed change of the sustained phase. */
export interface Change {
  seq: number;
  resident: number;
  /** outbox_event.occurred_at (epoch ms): the timestamp the hub's own commit→ack histogram starts from. */
  occurredAt: number;
  /** When the bench saw its transaction commit (epoch ms). */
  committedAt: number;
}

/**
 * Commit→acknowledgement latency of each change at one target: from the change's outbox timestamp (or, with `from`,
 * another instant of the change, such as when its writer saw the commit return) to the first
 * receipt, for the same resident, of that change or a newer one (a job that runs late reads the newest state, so a
 * change overtaken before its delivery is acknowledged by the delivery of the newer state). Changes with no such
 * receipt are counted as missing.
 */
export function latencies(
  changes: Change[], receipts: Receipt[], residentOfKey: Map<string, number>, from: (c: Change) => number = (c) => c.occurredAt,
): { ms: number[]; missing: number; slowest: { change: Change; ms: number }[] } {
  const byResident = new Map<number, Receipt[]>();
  for (const r of receipts) {
    if (r.seq < 0) continue;
    const resident = residentOfKey.get(r.key);
    if (resident === undefined) continue;
    const list = byResident.get(resident) ?? [];
    list.push(r);
    byResident.set(resident, list);
  }
  for (const list of byResident.values()) list.sort((a, b) => a.at - b.at);
  const ms: number[] = [];
  const each: { change: Change; ms: number }[] = [];
  let missing = 0;
  for (const c of changes) {
    const list = byResident.get(c.resident);
    const hit = list?.find((r) => r.seq >= c.seq);
    if (!hit) missing += 1;
    else {
      const v = Math.max(0, hit.at - from(c));
      ms.push(v);
      each.push({ change: c, ms: v });
    }
  }
  return { ms, missing, slowest: each.sort((a, b) => b.ms - a.ms).slice(0, 3) };
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
