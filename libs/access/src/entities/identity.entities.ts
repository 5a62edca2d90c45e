import { Column, Entity, PrimaryColumn } from 'typeorm';

/** 部门 a department and the line (条线) it owns. */
@Entity('department')
export class DepartmentEntity {
  @PrimaryColumn({ type: 'text' }) code: string;
  @Column({ name: 'name_zh', type: 'text' }) nameZh: string;
  @Column({ name: 'name_en', type: 'text' }) nameEn: string;
  @Column({ type: 'text' }) line: string;
  @Column({ type: 'text', array: true }) jurisdiction: string[];
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity('access_policy')
export class AccessPolicyEntity {
  @PrimaryColumn({ type: 'text' }) subject: string;
  @Column({ type: 'jsonb' }) fields: Record<string, 'CLEAR' | 'MASKED'>;
  @Column({ type: 'text', array: true, nullable: true }) tags: string[] | null;
  @Column({ type: 'text', array: true }) purposes: string[];
  @Column({ name: 'min_statistics_cell', type: 'int' }) minStatisticsCell: number;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

/** A person who signs in. */
@Entity('app_user')
export class UserEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ type: 'text' }) username: string;
  @Column({ name: 'display_name', type: 'text' }) displayName: string;
  @Column({ name: 'password_hash', type: 'text' }) passwordHash: string;
  @Column({ type: 'text' }) role: string;
  @Column({ name: 'department_code', type: 'text', nullable: true }) departmentCode: string | null;
  @Column({ type: 'text', array: true }) jurisdiction: string[];
  @Column({ name: 'failed_logins', type: 'int' }) failedLogins: number;
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true }) lockedUntil: Date | null;
  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true }) disabledAt: Date | null;
  @Column({ type: 'boolean' }) demo: boolean;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

/** A department's system, signing in with client credentials. */
@Entity('api_client')
export class ApiClientEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'client_id', type: 'text' }) clientId: string;
  @Column({ type: 'text' }) name: string;
  @Column({ name: 'department_code', type: 'text' }) departmentCode: string;
  @Column({ name: 'secret_hash', type: 'text' }) secretHash: string;
  @Column({ name: 'previous_secret_hash', type: 'text', nullable: true }) previousSecretHash: string | null;
  @Column({ name: 'previous_valid_until', type: 'timestamptz', nullable: true }) previousValidUntil: Date | null;
  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true }) disabledAt: Date | null;
  @Column({ type: 'boolean' }) demo: boolean;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true }) rotatedAt: Date | null;
}

@Entity('auth_session')
export class SessionEntity {
  @PrimaryColumn({ type: 'uuid', default: () => 'gen_random_uuid()' }) id: string;
  @Column({ name: 'principal_kind', type: 'text' }) principalKind: 'USER' | 'CLIENT';
  @Column({ name: 'principal_id', type: 'uuid' }) principalId: string;
  @Column({ name: 'refresh_hash', type: 'text', nullable: true }) refreshHash: string | null;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt: Date;
  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true }) revokedAt: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'source_address', type: 'text', nullable: true }) sourceAddress: string | null;
}

/** 审计记录 one audited request. Append-only, hash-chained. */
@Entity('audit_log')
export class AuditLogEntity {
  @PrimaryColumn({ type: 'bigint' }) id: string;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt: Date;
  @Column({ type: 'text' }) actor: string;
  @Column({ name: 'actor_kind', type: 'text' }) actorKind: string;
  @Column({ type: 'text' }) role: string;
  @Column({ type: 'text', nullable: true }) department: string | null;
  @Column({ type: 'text', nullable: true }) purpose: string | null;
  @Column({ type: 'text' }) operation: string;
  @Column({ name: 'resident_ids', type: 'uuid', array: true }) residentIds: string[];
  @Column({ name: 'household_ids', type: 'uuid', array: true }) householdIds: string[];
  @Column({ name: 'fields_clear', type: 'text', array: true }) fieldsClear: string[];
  @Column({ name: 'fields_masked', type: 'text', array: true }) fieldsMasked: string[];
  @Column({ type: 'text' }) outcome: string;
  @Column({ name: 'request_id', type: 'text' }) requestId: string;
  @Column({ name: 'source_address', type: 'text', nullable: true }) sourceAddress: string | null;
  @Column({ name: 'prev_hash', type: 'text' }) prevHash: string;
  @Column({ type: 'text' }) hash: string;
}
