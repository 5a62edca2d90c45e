/**
 * Typed errors. Every error a client can see has a stable code; the GraphQL layer maps each code with one
 * exhaustive switch (see graphql-errors.ts), so a new code that is not mapped fails to compile.
 */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  INVALID_ID_NUMBER = 'INVALID_ID_NUMBER',
  INVALID_CODE = 'INVALID_CODE',
  ID_NUMBER_TAKEN = 'ID_NUMBER_TAKEN',
  VERSION_CONFLICT = 'VERSION_CONFLICT',
  NOT_FOUND = 'NOT_FOUND',
  INVALID_STATE = 'INVALID_STATE',
  HOUSEHOLD_HEAD_REQUIRED = 'HOUSEHOLD_HEAD_REQUIRED',
  IDEMPOTENCY_KEY_REUSED = 'IDEMPOTENCY_KEY_REUSED',
  HOUSEHOLD_NUMBER_TAKEN = 'HOUSEHOLD_NUMBER_TAKEN',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  PURPOSE_REQUIRED = 'PURPOSE_REQUIRED',
  ACCOUNT_LOCKED = 'ACCOUNT_LOCKED',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  RATE_LIMITED = 'RATE_LIMITED',
  AUDIT_UNAVAILABLE = 'AUDIT_UNAVAILABLE',
  INTERNAL = 'INTERNAL',
}

export interface DomainErrorOptions {
  /** Path of the offending input field, e.g. `input.idNumber`. */
  field?: string;
  /** Extra machine-readable facts, e.g. `{ currentVersion: 4 }`. Never personal data. */
  details?: Record<string, unknown>;
}

/**
 * A bilingual error a community worker can act on: an expected outcome (a refusal, a bad input, a conflict), not a
 * fault, so the access plugin does not log it (apps/api's GraphQLFaultsFilter keeps Nest from logging it either).
 */
export class DomainError extends Error {
  readonly field?: string;
  readonly details?: Record<string, unknown>;

  constructor(
    readonly code: ErrorCode,
    readonly messageZh: string,
    readonly messageEn: string,
    options: DomainErrorOptions = {},
  ) {
    super(`${messageZh} / ${messageEn}`);
    this.name = 'DomainError';
    this.field = options.field;
    this.details = options.details;
  }

  static badInput(field: string, messageZh: string, messageEn: string, details?: Record<string, unknown>) {
    return new DomainError(ErrorCode.BAD_USER_INPUT, messageZh, messageEn, { field, details });
  }

  static notFound(what: string, id: string, field?: string) {
    return new DomainError(ErrorCode.NOT_FOUND, `未找到${whatZh(what)}`, `${what} not found`, { field, details: { id } });
  }

  static invalidState(messageZh: string, messageEn: string, field?: string) {
    return new DomainError(ErrorCode.INVALID_STATE, messageZh, messageEn, { field });
  }
}

const WHAT_ZH: Record<string, string> = {
  Resident: '居民',
  Household: '户',
  Dwelling: '房屋',
  Division: '行政区划',
  Tag: '标签',
  Building: '楼栋',
  Compound: '小区',
};

function whatZh(what: string): string {
  return WHAT_ZH[what] ?? what;
}
