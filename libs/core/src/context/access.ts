import { DomainError, ErrorCode } from '../errors/domain-error';

/**
 * What a request may see and do, computed once per request by the access library from the principal's role,
 * department and policy, and enforced by the feature libraries (row scope in SQL, fields by the GraphQL layer).
 * Kept here, in core, so features depend on the shape and not on the access library.
 */

export enum Permission {
  /** Code lists, divisions, tag definitions: reference data without personal data. */
  READ_REFERENCE = 'READ_REFERENCE',
  /** Residents, households and their history, within the jurisdiction. */
  READ_REGISTER = 'READ_REGISTER',
  /** Life events and corrections, within the write jurisdiction. */
  WRITE_REGISTER = 'WRITE_REGISTER',
  /** Assign / remove the tags of the principal's own line (departments). */
  WRITE_OWN_LINE_TAGS = 'WRITE_OWN_LINE_TAGS',
  /** Places: compounds, buildings, dwellings. */
  WRITE_PLACES = 'WRITE_PLACES',
  /** Aggregated counts instead of surveys. */
  READ_STATISTICS = 'READ_STATISTICS',
  /** The audit trail and its verification. */
  READ_AUDIT = 'READ_AUDIT',
  /** Users, departments and API clients. */
  MANAGE_IDENTITIES = 'MANAGE_IDENTITIES',
  /** Sessions and lockouts (security officer). */
  MANAGE_SECURITY = 'MANAGE_SECURITY',
  /** Bulk imports. */
  IMPORT = 'IMPORT',
  /** Sync hub: queues, dead letters, replays, dry runs. */
  MANAGE_SYNC = 'MANAGE_SYNC',
}

export type FieldAccess = 'CLEAR' | 'MASKED';

/** An inclusive range of 12-digit community codes: one division subtree. */
export interface CodeRange {
  from: string;
  to: string;
}

export interface AccessGrant {
  permissions: ReadonlySet<Permission>;
  /** Division subtrees the principal may read; null = the whole register (system and test actors only). */
  jurisdiction: CodeRange[] | null;
  /** Subtrees the principal may write in; empty = no register writes. */
  writeJurisdiction: CodeRange[] | null;
  /** Resident / household fields readable, clear or masked; a field not listed is refused. null = all clear. */
  fields: Readonly<Record<string, FieldAccess>> | null;
  /** Tag codes visible; null = all. */
  tags: ReadonlySet<string> | null;
  /** Tag owner lines whose tags this principal may assign and remove; null = all. */
  tagLines: ReadonlySet<string> | null;
  /** Purposes this principal has registered; null = no purpose needed (system and test actors). */
  purposes: ReadonlySet<string> | null;
  /** Cells below this count are suppressed in statistics (0 = no suppression). */
  minStatisticsCell: number;
}

/** Full access: command-line tools, jobs and the test-only development actor. */
export const FULL_ACCESS: AccessGrant = {
  permissions: new Set(Object.values(Permission)),
  jurisdiction: null,
  writeJurisdiction: null,
  fields: null,
  tags: null,
  tagLines: null,
  purposes: null,
  minStatisticsCell: 0,
};

export function inRanges(code: string, ranges: CodeRange[] | null): boolean {
  return ranges === null || ranges.some((r) => code >= r.from && code <= r.to);
}

/** SQL predicate limiting `column` to the ranges; adds its parameters to `params`. */
export function rangesSql(column: string, ranges: CodeRange[] | null, params: unknown[]): string {
  if (ranges === null) return 'TRUE';
  if (ranges.length === 0) return 'FALSE';
  return `(${ranges.map((r) => {
    if (r.from === r.to) {
      params.push(r.from);
      return `${column} = $${params.length}`;
    }
    params.push(r.from, r.to);
    return `${column} BETWEEN $${params.length - 1} AND $${params.length}`;
  }).join(' OR ')})`;
}

/** Refuses a write into a community outside the principal's write jurisdiction. */
export function requireWriteScope(access: AccessGrant, communityCode: string, field: string): void {
  if (!inRanges(communityCode, access.writeJurisdiction)) {
    throw new DomainError(ErrorCode.FORBIDDEN, '超出您的辖区，不能登记或修改', 'Outside your jurisdiction: you cannot record or change this', { field });
  }
}
