import * as mysql from 'mysql2/promise';
import { CODE_LISTS } from '../../../../libs/codes/src/code-lists.data';
import { Chaos, Simulator } from '../chaos';

/**
 * Simulator of P2, the grid governance system (网格化社会治理, `zz-grid`): staging tables (中间库) in a database of its
 * own on MariaDB (10.3 or later: it uses CREATE OR REPLACE for its function, procedure and triggers), written by the
 * hub directly over SQL (the `sql-staging` adapter).
 *
 * Tables (created at start if missing, in `database`):
 *   sys_dict (id, dict_type, code, name)   the system's own dictionary (字典表). Sex, ethnicity and education are
 *                                          stored as ids into it, NOT as GB codes: sex 101 男 / 102 女 / 103 未知 /
 *                                          104 未说明; ethnicity 200 + the GB/T 3304 order (201 汉族 … 222 畲族 …
 *                                          256 基诺族, 297 其他, 298 外国血统中国籍人士); education 301–311 in the
 *                                          system's own order (see EDUCATION_DICT).
 *   stg_person (IDCARDNO PK, NAME, USEDNAME, FULLPINYIN, GENDER, NATION, EDUCATION, BIRTHDAY, NATIVEPROVINCE,
 *               NATIVECITY, NATIVEDISTRICT (native place as names), ORGINTERNALCODE (organisation prefix path like
 *               '.330203.004.001.'), ISDEATH, MOBILENUMBER, UPDATE_VERSION, UPDATED_AT)
 *   stg_floating (IDCARDNO PK, inflowingReason, inflowingDate, registrationType, expectedDatedue, logOut,
 *                 logoutReason)                                        流动人口
 *   stg_household_member (IDCARDNO PK, ACCOUNTNUMBER, RELATIONSHIP)     户成员; relationship to the head as free
 *                                                                       text (户主, 妻, 长子 …)
 *   stg_error (IDCARDNO PK, ERR_MSG, CHECKED_AT)                        the system's verdict on staged rows
 *
 * Processing (校验): a person row is in error when IDCARDNO is not 17 digits + a digit or upper-case X (checksums
 * are not checked), GENDER is empty or not a `sex` id of sys_dict, or NATION / EDUCATION are given and are not ids
 * of their dictionary. The check runs inside the database as each row lands (triggers on stg_person call the
 * procedure `stg_person_validate`, so a writer sees its verdict in stg_error inside its own transaction), and a
 * processing sweep runs periodically (`processIntervalMs`) and before `records()`; a row that became valid loses its
 * error. The sweep works the way a legacy system's incremental job does, without holding up the writers:
 *   - it re-checks the rows changed since its previous sweep (UPDATED_AT, indexed), and every row when the dictionary
 *     changed (or on its first sweep);
 *   - it finds the rows whose verdict in stg_error is out of date with plain, non-locking reads (READ COMMITTED), and
 *     locks only those rows (usually none) to write their verdicts;
 *   - "changed since the previous sweep" counts from the start of the oldest transaction that was open when that
 *     sweep began (less a second, UPDATED_AT has whole seconds): a row written before the sweep but committed after
 *     it is still re-checked next time.
 * Before this, each sweep re-checked every row with INSERT … SELECT under shared locks on the whole table, and the
 * writers queued behind it (docs/sync.md, Measured).
 *
 * Chaos: the hub talks SQL to the database, not to this process, so there is no request to answer with 429 / 503
 * / 500 or to leave hanging, and no acknowledgement to repeat: those settings do not apply here. DOWN applies: while
 * the chaos says down, the simulator holds `LOCK TABLES … WRITE` on all its tables (the system's maintenance run),
 * so writers wait and fail with a lock wait timeout (ER_LOCK_WAIT_TIMEOUT, which the adapter treats as a counted
 * retry); the processing sweep pauses meanwhile. The state follows the chaos within ~100 ms, or at once through
 * `syncChaos()`.
 */

export interface ZzGridSimulatorOptions {
  /** Server address without a database, e.g. mysql://root@127.0.0.1:3306. */
  mysqlUrl: string;
  /** Database holding the staging tables, e.g. zz_grid_sim; created if missing. */
  database: string;
  /** Period of the processing sweep; 0 turns the timer off (records() still sweeps). Default 2000. */
  processIntervalMs?: number;
}

type DictType = 'sex' | 'nation' | 'education';

interface DictEntry {
  id: number;
  type: DictType;
  code: string;
  name: string;
}

/** 性别 sex: the system's ids, unrelated to GB/T 2261.1 codes. */
const SEX_DICT: DictEntry[] = [
  { id: 101, type: 'sex', code: 'M', name: '男' },
  { id: 102, type: 'sex', code: 'F', name: '女' },
  { id: 103, type: 'sex', code: 'U', name: '未知' },
  { id: 104, type: 'sex', code: 'N', name: '未说明' },
];

/** 民族 ethnicity: id 200 + position in GB/T 3304 for the 56 groups; 297 / 298 for other / foreign-born. */
const NATION_DICT: DictEntry[] = CODE_LISTS.ethnicity.map((e) => ({
  id: 200 + Number(e.code),
  type: 'nation' as const,
  code: /\(([A-Z]{2})\)$/.exec(e.nameEn)?.[1] ?? (e.code === '97' ? 'QT' : 'WG'),
  name: e.nameZh,
}));

/** 文化程度 education: the system's own list and order (it knows 文盲 too, which GB/T 4658 does not). */
const EDUCATION_DICT: DictEntry[] = [
  { id: 301, type: 'education', code: 'BS', name: '博士研究生' },
  { id: 302, type: 'education', code: 'SS', name: '硕士研究生' },
  { id: 303, type: 'education', code: 'YJS', name: '研究生' },
  { id: 304, type: 'education', code: 'BK', name: '大学本科' },
  { id: 305, type: 'education', code: 'ZK', name: '大学专科' },
  { id: 306, type: 'education', code: 'ZZ', name: '中专' },
  { id: 307, type: 'education', code: 'GZ', name: '高中' },
  { id: 308, type: 'education', code: 'CZ', name: '初中' },
  { id: 309, type: 'education', code: 'XX', name: '小学' },
  { id: 310, type: 'education', code: 'QT', name: '其他' },
  { id: 311, type: 'education', code: 'WM', name: '文盲或半文盲' },
];

export const ZZ_GRID_DICTIONARY: readonly DictEntry[] = [...SEX_DICT, ...NATION_DICT, ...EDUCATION_DICT];

const STAGING_TABLES = ['stg_person', 'stg_floating', 'stg_household_member'] as const;
const ALL_TABLES = ['sys_dict', ...STAGING_TABLES, 'stg_error'] as const;

const DDL: string[] = [
  `CREATE TABLE IF NOT EXISTS sys_dict (
     id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
     dict_type VARCHAR(32) NOT NULL,
     code VARCHAR(16) NOT NULL,
     name VARCHAR(64) NOT NULL,
     UNIQUE KEY uk_sys_dict (dict_type, code)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS stg_person (
     IDCARDNO VARCHAR(18) NOT NULL PRIMARY KEY,
     NAME VARCHAR(50) NULL,
     USEDNAME VARCHAR(50) NULL,
     FULLPINYIN VARCHAR(120) NULL,
     GENDER INT NULL,
     NATION INT NULL,
     EDUCATION INT NULL,
     BIRTHDAY DATE NULL,
     NATIVEPROVINCE VARCHAR(30) NULL,
     NATIVECITY VARCHAR(30) NULL,
     NATIVEDISTRICT VARCHAR(30) NULL,
     ORGINTERNALCODE VARCHAR(64) NULL,
     ISDEATH TINYINT NOT NULL DEFAULT 0,
     MOBILENUMBER VARCHAR(20) NULL,
     UPDATE_VERSION INT NOT NULL DEFAULT 0,
     UPDATED_AT DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  // What the processing sweep reads to find the rows changed since its previous run.
  'CREATE INDEX IF NOT EXISTS stg_person_updated_at ON stg_person (UPDATED_AT)',
  `CREATE TABLE IF NOT EXISTS stg_floating (
     IDCARDNO VARCHAR(18) NOT NULL PRIMARY KEY,
     inflowingReason VARCHAR(50) NULL,
     inflowingDate DATE NULL,
     registrationType VARCHAR(30) NULL,
     expectedDatedue DATE NULL,
     logOut TINYINT NOT NULL DEFAULT 0,
     logoutReason VARCHAR(100) NULL,
     UPDATED_AT DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS stg_household_member (
     IDCARDNO VARCHAR(18) NOT NULL PRIMARY KEY,
     ACCOUNTNUMBER VARCHAR(30) NULL,
     RELATIONSHIP VARCHAR(20) NULL,
     UPDATED_AT DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  `CREATE TABLE IF NOT EXISTS stg_error (
     IDCARDNO VARCHAR(18) NOT NULL PRIMARY KEY,
     ERR_MSG VARCHAR(255) NOT NULL,
     CHECKED_AT DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  // The verdict on one person row: NULL when valid, otherwise the reasons (codes only, never personal data).
  `CREATE OR REPLACE FUNCTION stg_person_check(p_id VARCHAR(18), p_gender INT, p_nation INT, p_education INT)
   RETURNS VARCHAR(255) NOT DETERMINISTIC READS SQL DATA
   BEGIN
     DECLARE msg VARCHAR(255) DEFAULT NULL;
     IF p_id IS NULL OR CAST(p_id AS BINARY) NOT REGEXP '^[0-9]{17}[0-9X]$' THEN
       SET msg = '身份证号码格式错误 (IDCARDNO malformed)';
     END IF;
     IF p_gender IS NULL THEN
       SET msg = CONCAT_WS('; ', msg, '性别为空 (GENDER missing)');
     ELSEIF NOT EXISTS (SELECT 1 FROM sys_dict WHERE id = p_gender AND dict_type = 'sex') THEN
       SET msg = CONCAT_WS('; ', msg, CONCAT('性别字典值不存在 (GENDER ', p_gender, ' not in sys_dict sex)'));
     END IF;
     IF p_nation IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sys_dict WHERE id = p_nation AND dict_type = 'nation') THEN
       SET msg = CONCAT_WS('; ', msg, CONCAT('民族字典值不存在 (NATION ', p_nation, ' not in sys_dict nation)'));
     END IF;
     IF p_education IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sys_dict WHERE id = p_education AND dict_type = 'education') THEN
       SET msg = CONCAT_WS('; ', msg, CONCAT('文化程度字典值不存在 (EDUCATION ', p_education, ' not in sys_dict education)'));
     END IF;
     RETURN msg;
   END`,
  `CREATE OR REPLACE PROCEDURE stg_person_validate(p_id VARCHAR(18), p_gender INT, p_nation INT, p_education INT)
   MODIFIES SQL DATA
   BEGIN
     DECLARE msg VARCHAR(255);
     SET msg = stg_person_check(p_id, p_gender, p_nation, p_education);
     IF msg IS NULL THEN
       DELETE FROM stg_error WHERE IDCARDNO = p_id;
     ELSE
       INSERT INTO stg_error (IDCARDNO, ERR_MSG, CHECKED_AT) VALUES (p_id, msg, NOW())
         ON DUPLICATE KEY UPDATE ERR_MSG = msg, CHECKED_AT = NOW();
     END IF;
   END`,
  `CREATE OR REPLACE TRIGGER stg_person_after_insert AFTER INSERT ON stg_person FOR EACH ROW
     CALL stg_person_validate(NEW.IDCARDNO, NEW.GENDER, NEW.NATION, NEW.EDUCATION)`,
  `CREATE OR REPLACE TRIGGER stg_person_after_update AFTER UPDATE ON stg_person FOR EACH ROW
     CALL stg_person_validate(NEW.IDCARDNO, NEW.GENDER, NEW.NATION, NEW.EDUCATION)`,
  `CREATE OR REPLACE TRIGGER stg_person_after_delete AFTER DELETE ON stg_person FOR EACH ROW
     DELETE FROM stg_error WHERE IDCARDNO = OLD.IDCARDNO`,
];

type Row = Record<string, unknown>;

/** One staged resident as the system holds it: the three staging rows joined, with dictionary names and verdict. */
export type ZzGridRecord = Row & { IDCARDNO: string; ERR_MSG: string | null };

export class ZzGridSimulator implements Simulator {
  readonly name = 'zz-grid';
  readonly chaos = new Chaos();
  private connection: mysql.Connection | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private locked = false;
  private timers: NodeJS.Timeout[] = [];
  /** Where the next sweep starts (server time, 'YYYY-MM-DD hh:mm:ss'); null: re-check every row. */
  private sweepFrom: string | null = null;
  /** The dictionary as the previous sweep saw it; a change means every row is checked again. */
  private dictionarySeen: string | null = null;
  private readonly server: { host: string; port: number; user: string | undefined; password: string | undefined };

  constructor(private readonly options: ZzGridSimulatorOptions) {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(options.database)) throw new Error('zz-grid: database must be letters, digits and _');
    const url = new URL(options.mysqlUrl);
    this.server = {
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
    };
  }

  async start(): Promise<void> {
    if (this.connection) return;
    const conn = await mysql.createConnection({ ...this.server, dateStrings: true, charset: 'utf8mb4' });
    try {
      await conn.query(`CREATE DATABASE IF NOT EXISTS \`${this.options.database}\` CHARACTER SET utf8mb4`);
      await conn.query(`USE \`${this.options.database}\``);
      // The simulator's own waits (taking the downtime locks) must not hang for the server default of a day.
      await conn.query('SET SESSION lock_wait_timeout = 10, innodb_lock_wait_timeout = 10');
      // The sweep reads committed rows without locking them and locks only the rows whose verdict it changes.
      await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      for (const statement of DDL) await conn.query(statement);
      await conn.query('INSERT IGNORE INTO sys_dict (id, dict_type, code, name) VALUES ?', [ZZ_GRID_DICTIONARY.map((d) => [d.id, d.type, d.code, d.name])]);
    } catch (err) {
      await conn.end().catch(() => undefined);
      throw err;
    }
    this.connection = conn;
    this.locked = false;
    this.sweepFrom = null;
    this.dictionarySeen = null;
    this.timers.push(setInterval(() => void this.syncChaos().catch(() => undefined), 100));
    const every = this.options.processIntervalMs ?? 2000;
    if (every > 0) this.timers.push(setInterval(() => void this.process().catch(() => undefined), every));
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const conn = this.connection;
    if (!conn) return;
    await this.queue;
    this.connection = null;
    this.locked = false;
    await conn.end().catch(() => conn.destroy());
  }

  /** Takes or releases the downtime locks so that they match `chaos.isDown()`. */
  async syncChaos(): Promise<void> {
    await this.serial(async (conn) => {
      const down = this.chaos.isDown();
      if (down && !this.locked) {
        await conn.query(`LOCK TABLES ${ALL_TABLES.map((t) => `${t} WRITE`).join(', ')}`);
        this.locked = true;
      } else if (!down && this.locked) {
        await conn.query('UNLOCK TABLES');
        this.locked = false;
      }
    });
  }

  /**
   * The processing sweep: re-checks the person rows changed since the previous sweep (every row when the dictionary
   * changed), and brings stg_error up to date for those whose verdict it holds is out of date.
   */
  async process(): Promise<void> {
    await this.serial(async (conn) => {
      if (this.locked) return; // the system is down: nothing is processed
      const rows = async (sql: string, params: unknown[] = []): Promise<Row[]> => (await conn.query(sql, params))[0] as Row[];
      // Where the next sweep will start: before anything a transaction still open now may have written.
      const [clock] = await rows(
        `SELECT DATE_FORMAT(LEAST(NOW(), COALESCE((SELECT MIN(trx_started) FROM information_schema.INNODB_TRX), NOW())) - INTERVAL 1 SECOND,
                            '%Y-%m-%d %H:%i:%s') AS next`,
      );
      const [dict] = await rows(`SELECT CONCAT(COUNT(*), ':', COALESCE(BIT_XOR(CRC32(CONCAT_WS('|', id, dict_type, code, name))), 0)) AS seen FROM sys_dict`);
      const dictionary = String(dict!['seen']);
      const from = dictionary === this.dictionarySeen ? this.sweepFrom : null;
      // Plain SELECTs: consistent reads of committed rows, no locks. A row's verdict and its error row are read in
      // one snapshot, so a row whose writer's trigger already gave it the right verdict is not a candidate.
      const stale = await rows(
        `SELECT p.IDCARDNO AS k FROM stg_person p LEFT JOIN stg_error e ON e.IDCARDNO = p.IDCARDNO
          WHERE ${from === null ? 'TRUE' : 'p.UPDATED_AT >= ?'}
            AND NOT (stg_person_check(p.IDCARDNO, p.GENDER, p.NATION, p.EDUCATION) <=> e.ERR_MSG)`,
        from === null ? [] : [from],
      );
      const orphans = await rows('SELECT e.IDCARDNO AS k FROM stg_error e LEFT JOIN stg_person p ON p.IDCARDNO = e.IDCARDNO WHERE p.IDCARDNO IS NULL');
      const keys = [...new Set([...stale, ...orphans].map((r) => String(r['k'])))].sort();
      for (let i = 0; i < keys.length; i += 500) await this.recheck(conn, keys.slice(i, i + 500));
      this.sweepFrom = String(clock!['next']);
      this.dictionarySeen = dictionary;
    });
  }

  /**
   * Writes the verdicts of `keys` in one short transaction that locks their person rows (in key order, as a writer
   * does), so a writer changing one of them meanwhile waits and its own trigger has the last word.
   */
  private async recheck(conn: mysql.Connection, keys: string[]): Promise<void> {
    await conn.query('START TRANSACTION');
    try {
      const [checked] = await conn.query(
        `SELECT IDCARDNO AS k, stg_person_check(IDCARDNO, GENDER, NATION, EDUCATION) AS msg FROM stg_person
          WHERE IDCARDNO IN (?) ORDER BY IDCARDNO FOR UPDATE`,
        [keys],
      );
      const verdicts = new Map((checked as Row[]).map((r) => [String(r['k']), r['msg'] === null ? null : String(r['msg'])]));
      const valid = keys.filter((k) => (verdicts.get(k) ?? null) === null);
      const invalid = keys.filter((k) => (verdicts.get(k) ?? null) !== null);
      if (valid.length) await conn.query('DELETE FROM stg_error WHERE IDCARDNO IN (?)', [valid]);
      if (invalid.length) {
        await conn.query(
          `INSERT INTO stg_error (IDCARDNO, ERR_MSG, CHECKED_AT) VALUES ${invalid.map(() => '(?, ?, NOW())').join(', ')}
           ON DUPLICATE KEY UPDATE ERR_MSG = VALUES(ERR_MSG), CHECKED_AT = NOW()`,
          invalid.flatMap((k) => [k, verdicts.get(k)!]),
        );
      }
      await conn.query('COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async records(): Promise<ZzGridRecord[]> {
    await this.process();
    return this.serial(async (conn) => {
      // Plain one-table SELECTs: they also work under the downtime locks (LOCK TABLES forbids unlocked aliases).
      const select = async (sql: string): Promise<Row[]> => (await conn.query(sql))[0] as Row[];
      const dict = new Map((await select('SELECT id, name FROM sys_dict')).map((d) => [Number(d['id']), String(d['name'])]));
      const merged = new Map<string, Row>();
      const add = (rows: Row[], prefix: (row: Row) => Row): void => {
        for (const row of rows) {
          const key = String(row['IDCARDNO']);
          merged.set(key, { ...(merged.get(key) ?? {}), ...prefix(row) });
        }
      };
      add(await select('SELECT * FROM stg_person'), (r) => ({
        ...r,
        GENDER_NAME: dict.get(Number(r['GENDER'])) ?? null,
        NATION_NAME: dict.get(Number(r['NATION'])) ?? null,
        EDUCATION_NAME: dict.get(Number(r['EDUCATION'])) ?? null,
      }));
      const withoutTimestamp = (r: Row): Row => {
        const copy = { ...r };
        delete copy['UPDATED_AT'];
        return copy;
      };
      add(await select('SELECT * FROM stg_floating'), (r) => ({ IDCARDNO: r['IDCARDNO'], floating: withoutTimestamp(r) }));
      add(await select('SELECT * FROM stg_household_member'), (r) => ({ IDCARDNO: r['IDCARDNO'], household: withoutTimestamp(r) }));
      add(await select('SELECT IDCARDNO, ERR_MSG FROM stg_error'), (r) => ({ IDCARDNO: r['IDCARDNO'], ERR_MSG: r['ERR_MSG'] }));
      return [...merged.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([key, row]) => ({ floating: null, household: null, ERR_MSG: null, ...row, IDCARDNO: key }) as ZzGridRecord);
    });
  }

  async reset(): Promise<void> {
    await this.serial(async (conn) => {
      for (const t of [...STAGING_TABLES, 'stg_error']) await conn.query(`DELETE FROM ${t}`);
    });
  }

  describe(): string {
    return `MariaDB ${this.server.host}:${this.server.port}/${this.options.database}: staging tables stg_person, stg_floating, stg_household_member; verdicts in stg_error`;
  }

  /** Every use of the one connection goes through here, one at a time (the downtime locks belong to it). */
  private serial<T>(work: (conn: mysql.Connection) => Promise<T>): Promise<T> {
    const next = this.queue.then(() => {
      const conn = this.connection;
      if (!conn) throw new Error('zz-grid simulator is not started');
      return work(conn);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}
