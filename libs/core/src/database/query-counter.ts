import { AbstractLogger, LogLevel, LogMessage, QueryRunner } from 'typeorm';

/**
 * A TypeORM logger that counts SQL statements. Tests use it to prove a page of residents costs a bounded number
 * of statements (no N+1). It never logs the statements or their parameters (they may hold personal data).
 */
export class QueryCounter extends AbstractLogger {
  static readonly shared = new QueryCounter();
  private count = 0;

  get total(): number {
    return this.count;
  }

  override logQuery(): void {
    this.count += 1;
  }

  protected writeLog(_level: LogLevel, _message: LogMessage | string | number | (LogMessage | string | number)[], _runner?: QueryRunner): void {
    // Statement text is deliberately not written anywhere.
  }
}
