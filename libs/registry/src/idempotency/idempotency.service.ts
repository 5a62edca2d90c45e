import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError, ErrorCode, RequestContext } from '@linli/core';
import { translateDbError } from '../residents/db-errors';

/** Serialises with sorted keys, so the same input always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * Runs a mutation in one transaction, at most once per (actor, idempotency key). The key row is inserted first in
 * the same transaction: a concurrent request with the same key waits on it, then replays the stored result.
 * The same key with a different operation or input is refused.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async run<T>(ctx: RequestContext, key: string | null | undefined, operation: string, input: unknown, work: (m: EntityManager) => Promise<T>): Promise<T> {
    // Constraint violations a race can still cause (some checked only at commit, like the one-head trigger) become
    // typed errors here, in the one place every mutation passes through.
    return this.transact(ctx, key, operation, input, work).catch(translateDbError);
  }

  private async transact<T>(ctx: RequestContext, key: string | null | undefined, operation: string, input: unknown, work: (m: EntityManager) => Promise<T>): Promise<T> {
    if (!key) return this.dataSource.transaction(work);
    if (key.length > 200) throw DomainError.badInput('idempotencyKey', '幂等键过长', 'The idempotency key is longer than 200 characters');
    const hash = createHash('sha256').update(canonicalJson({ operation, input })).digest('hex');
    return this.dataSource.transaction(async (m) => {
      const inserted = await m.query(
        `INSERT INTO idempotency_record (actor, key, operation, request_hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT (actor, key) DO NOTHING RETURNING key`,
        [ctx.actor.id, key, operation, hash],
      );
      if (inserted.length === 0) {
        const [prior] = await m.query(`SELECT operation, request_hash, response FROM idempotency_record WHERE actor = $1 AND key = $2`, [ctx.actor.id, key]);
        if (prior.operation !== operation || prior.request_hash !== hash) {
          throw new DomainError(ErrorCode.IDEMPOTENCY_KEY_REUSED, '该幂等键已用于另一个请求', 'This idempotency key was already used for a different request', {
            field: 'idempotencyKey',
          });
        }
        return reviveDates(prior.response) as T;
      }
      const result = await work(m);
      await m.query(`UPDATE idempotency_record SET response = $3 WHERE actor = $1 AND key = $2`, [ctx.actor.id, key, JSON.stringify(result)]);
      return result;
    });
  }
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** Stored results come back from JSON; timestamps become Dates again so the GraphQL types serialise them. */
function reviveDates(value: unknown): unknown {
  if (typeof value === 'string' && ISO_TIMESTAMP.test(value)) return new Date(value);
  if (Array.isArray(value)) return value.map(reviveDates);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveDates(v)]));
  return value;
}
