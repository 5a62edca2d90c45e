import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { DomainError, ErrorCode } from './domain-error';

/** What kind of failure a code is; clients and logs use it, and it decides whether the error is logged. */
export type ErrorCategory = 'input' | 'conflict' | 'not_found' | 'auth' | 'limit' | 'internal';

export function categoryOf(code: ErrorCode): ErrorCategory {
  switch (code) {
    case ErrorCode.BAD_USER_INPUT:
    case ErrorCode.INVALID_ID_NUMBER:
    case ErrorCode.INVALID_CODE:
    case ErrorCode.HOUSEHOLD_HEAD_REQUIRED:
      return 'input';
    case ErrorCode.ID_NUMBER_TAKEN:
    case ErrorCode.VERSION_CONFLICT:
    case ErrorCode.INVALID_STATE:
    case ErrorCode.IDEMPOTENCY_KEY_REUSED:
    case ErrorCode.HOUSEHOLD_NUMBER_TAKEN:
      return 'conflict';
    case ErrorCode.NOT_FOUND:
      return 'not_found';
    case ErrorCode.UNAUTHENTICATED:
    case ErrorCode.FORBIDDEN:
    case ErrorCode.PURPOSE_REQUIRED:
    case ErrorCode.ACCOUNT_LOCKED:
      return 'auth';
    case ErrorCode.QUERY_TOO_COMPLEX:
    case ErrorCode.RATE_LIMITED:
      return 'limit';
    case ErrorCode.AUDIT_UNAVAILABLE:
    case ErrorCode.INTERNAL:
      return 'internal';
    default: {
      const unmapped: never = code;
      throw new Error(`unmapped error code ${String(unmapped)}`);
    }
  }
}

/** Codes Apollo/graphql-js produce themselves for malformed requests; they pass through unchanged. */
const PROTOCOL_CODES = new Set([
  'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED', 'OPERATION_RESOLUTION_FAILURE', 'BAD_REQUEST',
]);

/**
 * Turns any error leaving a resolver into what the client sees: domain errors keep their code, field and both
 * messages; everything else becomes a generic INTERNAL error carrying the request id (the cause is logged, not sent).
 */
export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (err: unknown) => void,
): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? error.originalError ?? error : error;
  if (original instanceof DomainError) {
    return {
      message: original.message,
      path: formatted.path,
      locations: formatted.locations,
      extensions: {
        code: original.code,
        category: categoryOf(original.code),
        field: original.field,
        messageZh: original.messageZh,
        messageEn: original.messageEn,
        ...(original.details ?? {}),
      },
    };
  }
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PROTOCOL_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  onInternal(original);
  return {
    message: '系统内部错误，请稍后重试 / Internal error, please try again later',
    path: formatted.path,
    extensions: { code: ErrorCode.INTERNAL, category: 'internal' },
  };
}
