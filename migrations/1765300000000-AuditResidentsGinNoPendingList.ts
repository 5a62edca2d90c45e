import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `audit_log_residents` (GIN on resident_ids, for "who read resident X") was built with GIN's default fast update:
 * new entries go to a pending list, which is merged into the index by VACUUM or, once it outgrows
 * gin_pending_list_limit (4 MB), by whichever insert finds it full. That insert is an `audit_append_many` call holding
 * the audit chain's lock, so every audited request waits while ~140,000 pending entries are merged; on a server with
 * autovacuum off (as on the CI machines) only inserts ever merge it. An audit row names few residents, so inserting
 * its entries directly costs little and the same on every call. Measured in bench:query's lookup (1,000,000
 * residents, ~2.9 million audit rows): the slowest request fell from 127–230 ms to 57–89 ms, throughput unchanged.
 */
export class AuditResidentsGinNoPendingList1765300000000 implements MigrationInterface {
  name = 'AuditResidentsGinNoPendingList1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER INDEX audit_log_residents SET (fastupdate = off)`);
    // Entries already pending stay in the list until merged: merge them now.
    await q.query(`SELECT gin_clean_pending_list('audit_log_residents')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER INDEX audit_log_residents RESET (fastupdate)`);
  }
}
