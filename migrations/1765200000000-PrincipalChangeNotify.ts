import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every API process caches the principal behind a session for a few seconds (AuthService), so a revoked session, a
 * disabled account or a changed access policy used to take effect in the other processes, and after a change made
 * with the admin CLI or by hand in SQL, only when that cache expired. These triggers announce such changes on the
 * channel `linli_principals` when their transaction commits, whoever made them; each API process LISTENs
 * (PrincipalChanges) and drops what it cached:
 * - a session revoked or deleted: its id (that one session is dropped);
 * - an account, client, department or access policy whose access changed: `*` (every cached principal is dropped and
 *   reloaded on its next request; such changes are rare).
 * Logins, lockout counters and refresh-token rotation change none of the watched columns and announce nothing.
 */
export class PrincipalChangeNotify1765200000000 implements MigrationInterface {
  name = 'PrincipalChangeNotify1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION notify_principal_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_TABLE_NAME = 'auth_session' THEN
          PERFORM pg_notify('linli_principals', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
        ELSE
          PERFORM pg_notify('linli_principals', '*');
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER auth_session_revoked AFTER UPDATE OF revoked_at ON auth_session FOR EACH ROW
        WHEN (NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL) EXECUTE FUNCTION notify_principal_change()`);
    await q.query(`CREATE TRIGGER auth_session_deleted AFTER DELETE ON auth_session FOR EACH ROW EXECUTE FUNCTION notify_principal_change()`);
    await q.query(`
      CREATE TRIGGER app_user_access_changed AFTER UPDATE ON app_user FOR EACH ROW
        WHEN (OLD.disabled_at IS DISTINCT FROM NEW.disabled_at OR OLD.role IS DISTINCT FROM NEW.role
              OR OLD.department_code IS DISTINCT FROM NEW.department_code OR OLD.jurisdiction IS DISTINCT FROM NEW.jurisdiction)
        EXECUTE FUNCTION notify_principal_change()`);
    await q.query(`
      CREATE TRIGGER api_client_access_changed AFTER UPDATE ON api_client FOR EACH ROW
        WHEN (OLD.disabled_at IS DISTINCT FROM NEW.disabled_at OR OLD.department_code IS DISTINCT FROM NEW.department_code)
        EXECUTE FUNCTION notify_principal_change()`);
    await q.query(`
      CREATE TRIGGER department_access_changed AFTER UPDATE ON department FOR EACH ROW
        WHEN (OLD.jurisdiction IS DISTINCT FROM NEW.jurisdiction OR OLD.line IS DISTINCT FROM NEW.line)
        EXECUTE FUNCTION notify_principal_change()`);
    await q.query(`
      CREATE TRIGGER access_policy_changed AFTER INSERT OR UPDATE OR DELETE ON access_policy FOR EACH STATEMENT
        EXECUTE FUNCTION notify_principal_change()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS access_policy_changed ON access_policy`);
    await q.query(`DROP TRIGGER IF EXISTS department_access_changed ON department`);
    await q.query(`DROP TRIGGER IF EXISTS api_client_access_changed ON api_client`);
    await q.query(`DROP TRIGGER IF EXISTS app_user_access_changed ON app_user`);
    await q.query(`DROP TRIGGER IF EXISTS auth_session_deleted ON auth_session`);
    await q.query(`DROP TRIGGER IF EXISTS auth_session_revoked ON auth_session`);
    await q.query(`DROP FUNCTION IF EXISTS notify_principal_change()`);
  }
}
