import { SetMetadata } from '@nestjs/common';
import { Permission } from './access';

export const ALLOW_KEY = 'linli:allow';
/** Marks an operation reachable without signing in (login, token exchange). */
export const PUBLIC = 'PUBLIC' as const;

/**
 * Every GraphQL operation declares who may call it; the global guard refuses operations without it.
 * `@Allow(Permission.READ_REGISTER)`: any one of the listed permissions suffices.
 */
export const Allow = (...permissions: (Permission | typeof PUBLIC)[]) => SetMetadata(ALLOW_KEY, permissions);
