/**
 * Every resident column under its entity property name, for the hot reads that skip TypeORM's query builder and
 * hydration (a page, a lookup, the locking read of a change). Dates come back as `YYYY-MM-DD` text, as TypeORM
 * hydrates them. `resident-columns.spec.ts` checks it against the entity's columns, so a new column cannot be missed.
 */
export const RESIDENT_COLUMNS = `r.id, r.id_type AS "idType", r.id_number AS "idNumber", r.id_number_status AS "idNumberStatus",
  r.quarantine_reason AS "quarantineReason", r.name, r.name_pinyin AS "namePinyin", r.former_name AS "formerName", r.sex,
  r.birth_date::text AS "birthDate", r.ethnicity, r.political_status AS "politicalStatus", r.education,
  r.marital_status AS "maritalStatus", r.employment, r.phone, r.population_type AS "populationType",
  r.household_relation AS "householdRelation", r.community_code AS "communityCode", r.status, r.moved_out_on::text AS "movedOutOn",
  r.move_out_reason AS "moveOutReason", r.move_out_destination AS "moveOutDestination", r.deceased_on::text AS "deceasedOn",
  r.merged_into_id AS "mergedIntoId", r.source, r.version, r.created_at AS "createdAt", r.updated_at AS "updatedAt"`;
