import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Actor, AppConfig, queryPrepared, RequestContext } from '@linli/core';
import { AuditLogEntity } from './entities/identity.entities';
import { sha256 } from './tokens';

export type AuditOutcome = 'OK' | 'DENIED' | 'ERROR';

export interface AuditRecordInput {
  operation: string;
  outcome: AuditOutcome;
}

/** This many waiting rows go to the database at once, without waiting out the flush delay. */
const FLUSH_AT = 16;
/**
 * One call appends a batch of rows, computes each row's content digest from its text and links their hashes
 * (migration 1765400000000). The batch is a JSON array of rows, each the JSON array `contentJson` wrote.
 */
const APPEND_ROWS = 'SELECT audit_append_rows($1::json)';

/** The fields of a row's content, in the order its digest takes them (and audit_append_rows reads them). */
const CONTENT_KEYS = ['occurred_at', 'actor', 'actor_kind', 'role', 'department', 'purpose', 'operation', 'resident_ids', 'household_ids', 'fields_clear', 'fields_masked', 'outcome', 'request_id', 'source_address'] as const;
type ContentKey = (typeof CONTENT_KEYS)[number];

/**
 * A row's content as the text its digest is taken of: its fields in CONTENT_KEYS order, as one JSON array. `verify`
 * rebuilds it from stored rows; `append` writes the same text directly (with the actor's fields cached), so the two
 * must stay in step: the audit chain tests fail if they differ.
 */
function contentJson(row: Record<ContentKey, unknown>): string {
  return JSON.stringify(CONTENT_KEYS.map((k) => row[k] ?? null));
}

/**
 * The content fields an actor decides (actor, actor_kind, role, department), as JSON array elements: computed once per
 * actor object, which a cached principal shares across its requests.
 */
const actorJson = new WeakMap<Actor, string>();
function actorFieldsJson(actor: Actor): string {
  let json = actorJson.get(actor);
  if (json === undefined) {
    json = JSON.stringify([actor.id, actor.kind, actor.role, actor.departmentCode ?? null]).slice(1, -1);
    actorJson.set(actor, json);
  }
  return json;
}

function sorted(values: Set<string>): string[] {
  return values.size < 2 ? [...values] : [...values].sort();
}

/** A row's hash links it to its predecessor: sha256(previous hash | sha256(content)), as audit_append_rows computes it. */
function hashOf(prevHash: string, row: Record<ContentKey, unknown>): string {
  return sha256(`${prevHash}|${sha256(contentJson(row))}`);
}

/**
 * The audit trail: append-only (a trigger refuses UPDATE and DELETE), each row holding the hash of the previous one,
 * so any edit or removal inside the chain is detectable by `verify`.
 */
@Injectable()
export class AuditService {
  private pending: { content: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  /** Requests in progress that will append a row (announced by `expect`): worth waiting for, up to the delay. */
  private expected = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource, private readonly config: AppConfig) {}

  /** A request that will be audited has started: its row is coming, so rows already waiting may wait for it. */
  expect(): void {
    this.expected += 1;
  }

  /** An announced request ends without a row (nothing to audit after all). */
  forget(): void {
    this.expected = Math.max(0, this.expected - 1);
    this.schedule();
  }

  /**
   * Appends the request's row; `announced` when the request called `expect` before. The row travels as its content
   * text only: PostgreSQL computes the digest of that text and links it into the chain.
   */
  append(ctx: RequestContext, input: AuditRecordInput, announced = false): Promise<void> {
    if (announced) this.expected = Math.max(0, this.expected - 1);
    // contentJson's text, written straight from the request: the actor's fields come as one cached piece.
    const { audit } = ctx;
    const content = `[${JSON.stringify(new Date().toISOString())},${actorFieldsJson(ctx.actor)},${JSON.stringify([
      ctx.purpose,
      input.operation,
      sorted(audit.residentIds),
      sorted(audit.householdIds),
      sorted(audit.clearFields),
      sorted(audit.maskedFields),
      input.outcome,
      ctx.requestId,
      ctx.sourceAddress,
    ]).slice(1)}`;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ content, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Group commit: the rows of concurrent requests go to the database together (`audit_append_rows` takes the chain
   * lock once, links them in order and inserts them in one statement). Rows go at once when no other audited request
   * is in progress (nothing to wait for: no added latency when the API is quiet) or FLUSH_AT rows are waiting;
   * otherwise they wait at most AUDIT_FLUSH_DELAY_MS for the rows of those requests. While a call is in the database,
   * the rows that arrive go in the next one. Each request still waits until its own row is committed, and learns if it
   * failed. A round trip per request would cost more than the append itself: on a small VM every socket write to
   * PostgreSQL is a context switch.
   */
  private schedule(): void {
    if (this.flushing || this.pending.length === 0) return;
    const delay = this.config.get('AUDIT_FLUSH_DELAY_MS');
    if (delay === 0 || this.expected === 0 || this.pending.length >= FLUSH_AT) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), delay);
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    const batch = this.pending.splice(0, 500);
    queryPrepared(this.dataSource, APPEND_ROWS, [`[${batch.map((b) => b.content).join(',')}]`])
      .then(() => batch.forEach((b) => b.resolve()), (err: unknown) => batch.forEach((b) => b.reject(err)))
      .finally(() => {
        this.flushing = false;
        this.schedule();
      });
  }

  /** Walks the chain from the oldest kept row; reports the first row whose content or link does not match. */
  async verify(): Promise<{ ok: boolean; checked: number; firstBrokenId: string | null; reason: string | null }> {
    let checked = 0;
    let prev: string | null = null;
    let afterId = '0';
    for (;;) {
      const rows: (Record<ContentKey, unknown> & { id: string; prev_hash: string; hash: string })[] = await this.dataSource.query(
        `SELECT id::text, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at, actor, actor_kind, role, department,
                purpose, operation, resident_ids::text[] AS resident_ids, household_ids::text[] AS household_ids, fields_clear, fields_masked,
                outcome, request_id, source_address, prev_hash, hash
           FROM audit_log WHERE audit_log.id > $1::bigint ORDER BY audit_log.id LIMIT 5000`, // by the number, not the text alias
        [afterId],
      );
      if (rows.length === 0) return { ok: true, checked, firstBrokenId: null, reason: null };
      for (const row of rows) {
        if (prev !== null && row.prev_hash !== prev) return { ok: false, checked, firstBrokenId: row.id, reason: 'LINK: previous row missing or changed' };
        if (hashOf(row.prev_hash, row) !== row.hash) return { ok: false, checked, firstBrokenId: row.id, reason: 'CONTENT: row changed after it was written' };
        prev = row.hash;
        checked += 1;
      }
      afterId = rows[rows.length - 1].id;
    }
  }

  async list(filter: { residentId?: string | null; actor?: string | null; from?: Date | null; to?: Date | null; purpose?: string | null; clearOnly?: boolean | null }, first: number, afterId: string | null): Promise<{ rows: AuditLogEntity[]; total: number }> {
    const qb = this.dataSource.getRepository(AuditLogEntity).createQueryBuilder('a');
    if (filter.residentId) qb.andWhere(':rid = ANY(a.residentIds)', { rid: filter.residentId });
    if (filter.actor) qb.andWhere('a.actor = :actor', { actor: filter.actor });
    if (filter.from) qb.andWhere('a.occurredAt >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('a.occurredAt < :to', { to: filter.to });
    if (filter.purpose) qb.andWhere('a.purpose = :purpose', { purpose: filter.purpose });
    if (filter.clearOnly) qb.andWhere('cardinality(a.fieldsClear) > 0');
    const total = await qb.getCount();
    if (afterId) qb.andWhere('a.id < :after', { after: afterId });
    const rows = await qb.orderBy('a.id', 'DESC').take(first + 1).getMany();
    return { rows, total };
  }

  /** Deletes records older than the retention period (never younger than six months; the trigger enforces that too). */
  async purgeExpired(): Promise<number> {
    const days = this.config.get('AUDIT_RETENTION_DAYS');
    return this.dataSource.transaction(async (m) => {
      await m.query(`SET LOCAL linli.audit_purge = 'on'`);
      const result = await m.query(`DELETE FROM audit_log WHERE occurred_at < now() - make_interval(days => $1::int)`, [days]);
      return Number(result[1] ?? 0);
    });
  }
}
