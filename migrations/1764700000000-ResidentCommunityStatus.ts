import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The community index carries the status too, so the most common read, "the active residents of a community or
 * subtree" with its totalCount, is answered from the index alone (an index-only scan once the table is vacuumed)
 * instead of visiting every heap page of the community. It replaces resident_community (same key, one more
 * column stored in the leaf): no extra index for writes to maintain.
 *
 * Built CONCURRENTLY, so a running district keeps writing while it builds; that cannot happen inside a
 * transaction, hence `transaction = false`. An interrupted build leaves an INVALID index, which the first statement
 * removes before trying again.
 */
export class ResidentCommunityStatus1764700000000 implements MigrationInterface {
  name = 'ResidentCommunityStatus1764700000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS resident_community_status`);
    await q.query(`CREATE INDEX CONCURRENTLY resident_community_status ON resident (community_code, id) INCLUDE (status)`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS resident_community`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS resident_community ON resident (community_code, id)`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS resident_community_status`);
  }
}
