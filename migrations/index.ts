import { InitialRegister1764400000000 } from './1764400000000-InitialRegister';
import { AccessAndAudit1764500000000 } from './1764500000000-AccessAndAudit';
import { SyncHub1764600000000 } from './1764600000000-SyncHub';
import { ResidentCommunityStatus1764700000000 } from './1764700000000-ResidentCommunityStatus';
import { DropResidentBirthPinyin1765000000000 } from './1765000000000-DropResidentBirthPinyin';
import { AuditAppendSetBased1765100000000 } from './1765100000000-AuditAppendSetBased';
import { PrincipalChangeNotify1765200000000 } from './1765200000000-PrincipalChangeNotify';
import { AuditResidentsGinNoPendingList1765300000000 } from './1765300000000-AuditResidentsGinNoPendingList';
import { AuditContentDigestInDatabase1765400000000 } from './1765400000000-AuditContentDigestInDatabase';

/** Every migration, in order. A new migration file is added here too. */
export const ALL_MIGRATIONS = [InitialRegister1764400000000, AccessAndAudit1764500000000, SyncHub1764600000000, ResidentCommunityStatus1764700000000, DropResidentBirthPinyin1765000000000, AuditAppendSetBased1765100000000, PrincipalChangeNotify1765200000000, AuditResidentsGinNoPendingList1765300000000, AuditContentDigestInDatabase1765400000000];
