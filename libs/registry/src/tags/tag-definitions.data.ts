import { EntityManager } from 'typeorm';
import { Sensitivity, TagRule } from '../entities/tag.entities';

export interface TagDefinitionSeed {
  code: string;
  nameZh: string;
  nameEn: string;
  ownerLine: string;
  sensitivity: Sensitivity;
  subject: 'RESIDENT' | 'HOUSEHOLD';
  /** JSON Schema (draft 2020-12 subset understood by ajv) of the tag's attributes. */
  attributeSchema: Record<string, unknown>;
  rule?: TagRule;
}

const date = { type: 'string', format: 'date' };
const yuan = { type: 'number', minimum: 0, multipleOf: 0.01 };

/** The special groups of DOMAIN.md §5. Derived tags carry a rule and no attributes. */
export const TAG_DEFINITIONS: TagDefinitionSeed[] = [
  {
    code: 'LOW_INCOME', nameZh: '低保/低边/特困', nameEn: 'Low-income household', ownerLine: 'CIVIL_AFFAIRS', sensitivity: 'L3', subject: 'HOUSEHOLD',
    attributeSchema: {
      type: 'object', additionalProperties: false, required: ['caseNo', 'category', 'coveredMembers', 'monthlyAmount', 'startDate'],
      properties: {
        caseNo: { type: 'string', minLength: 1, maxLength: 40 },
        category: { enum: ['URBAN_DIBAO', 'MARGINAL', 'EXTREME_POVERTY'] },
        coveredMembers: { type: 'integer', minimum: 1, maximum: 30 },
        monthlyAmount: yuan,
        startDate: date,
        reviewDue: date,
      },
    },
  },
  {
    code: 'LOW_INCOME_MEMBER', nameZh: '低保对象', nameEn: 'Low-income covered person', ownerLine: 'CIVIL_AFFAIRS', sensitivity: 'L3', subject: 'RESIDENT',
    attributeSchema: { type: 'object', additionalProperties: false, properties: { caseNo: { type: 'string', maxLength: 40 }, category: { enum: ['URBAN_DIBAO', 'MARGINAL', 'EXTREME_POVERTY'] } } },
  },
  {
    code: 'DISABLED', nameZh: '残疾人', nameEn: 'Person with disability', ownerLine: 'DISABILITY_FEDERATION', sensitivity: 'L3', subject: 'RESIDENT',
    attributeSchema: {
      type: 'object', additionalProperties: false, required: ['certificateNo'],
      properties: {
        certificateNo: { type: 'string', pattern: '^[0-9]{17}[0-9X][1-7][1-4]$' },
        issuedOn: date,
      },
    },
  },
  { code: 'AGED_80_PLUS', nameZh: '高龄老人', nameEn: 'Aged 80 and over', ownerLine: 'ELDERLY_AFFAIRS', sensitivity: 'L1', subject: 'RESIDENT', attributeSchema: {}, rule: { minAge: 80 } },
  {
    code: 'ELDERLY_LIVING_ALONE', nameZh: '独居老人', nameEn: 'Elderly living alone', ownerLine: 'ELDERLY_AFFAIRS', sensitivity: 'L3', subject: 'RESIDENT',
    attributeSchema: { type: 'object', additionalProperties: false, properties: { visitSchedule: { enum: ['DAILY', 'WEEKLY', 'MONTHLY'] }, lastVisitOn: date } },
  },
  {
    code: 'EMPTY_NEST_ELDERLY', nameZh: '空巢老人', nameEn: 'Empty-nest elderly', ownerLine: 'ELDERLY_AFFAIRS', sensitivity: 'L3', subject: 'RESIDENT',
    attributeSchema: { type: 'object', additionalProperties: false, properties: { visitSchedule: { enum: ['DAILY', 'WEEKLY', 'MONTHLY'] } } },
  },
  {
    code: 'PARTY_MEMBER', nameZh: '党员', nameEn: 'Party member', ownerLine: 'PARTY_ORGANISATION', sensitivity: 'L2', subject: 'RESIDENT',
    attributeSchema: {
      type: 'object', additionalProperties: false, required: ['branch', 'joinDate'],
      properties: {
        branch: { type: 'string', minLength: 1, maxLength: 100 },
        joinDate: date,
        fullMemberDate: date,
        status: { enum: ['PROBATIONARY', 'FULL'] },
        mobile: { type: 'boolean', description: '流动党员 mobile party member' },
      },
    },
  },
  {
    code: 'VETERAN', nameZh: '退役军人/优抚对象', nameEn: 'Veteran / entitled group', ownerLine: 'VETERANS_AFFAIRS', sensitivity: 'L3', subject: 'RESIDENT',
    attributeSchema: { type: 'object', additionalProperties: false, properties: { category: { type: 'string', maxLength: 40 }, dischargedOn: date } },
  },
  {
    code: 'FLOATING', nameZh: '流动人口', nameEn: 'Floating population', ownerLine: 'PUBLIC_SECURITY', sensitivity: 'L2', subject: 'RESIDENT',
    attributeSchema: {
      type: 'object', additionalProperties: false, required: ['inflowDate'],
      properties: {
        inflowReason: { enum: ['WORK', 'BUSINESS', 'STUDY', 'FAMILY', 'OTHER'] },
        inflowDate: date,
        expectedStayMonths: { type: 'integer', minimum: 0, maximum: 600 },
        residencePermitNo: { type: 'string', maxLength: 40 },
      },
    },
  },
  { code: 'CHILDBEARING_AGE_WOMAN', nameZh: '育龄妇女', nameEn: 'Woman of childbearing age', ownerLine: 'HEALTH', sensitivity: 'L2', subject: 'RESIDENT', attributeSchema: {}, rule: { sex: '2', minAge: 15, maxAge: 49 } },
  {
    code: 'LOST_ONLY_CHILD', nameZh: '失独家庭', nameEn: 'Parents who lost their only child', ownerLine: 'HEALTH', sensitivity: 'L3', subject: 'RESIDENT',
    attributeSchema: { type: 'object', additionalProperties: false, properties: { since: date } },
  },
  {
    code: 'CHILD_IN_DIFFICULTY', nameZh: '困境儿童', nameEn: 'Child in difficulty', ownerLine: 'CIVIL_AFFAIRS', sensitivity: 'L4', subject: 'RESIDENT',
    attributeSchema: { type: 'object', additionalProperties: false, properties: { category: { type: 'string', maxLength: 40 } } },
  },
  {
    code: 'HARD_TO_EMPLOY', nameZh: '失业/就业困难人员', nameEn: 'Unemployed / hard to employ', ownerLine: 'HUMAN_RESOURCES', sensitivity: 'L2', subject: 'RESIDENT',
    attributeSchema: { type: 'object', additionalProperties: false, properties: { registeredOn: date, certificateNo: { type: 'string', maxLength: 40 } } },
  },
  {
    code: 'GRID_KEY_PERSON', nameZh: '网格重点人员', nameEn: 'Key person of grid governance', ownerLine: 'GRID_GOVERNANCE', sensitivity: 'L4', subject: 'RESIDENT',
    attributeSchema: {
      type: 'object', additionalProperties: false, required: ['category'],
      properties: { category: { enum: ['RELEASED_PRISONER', 'COMMUNITY_CORRECTION', 'SEVERE_MENTAL_DISORDER', 'DRUG_USER'] } },
    },
  },
];

/** Upserts the tag definitions shipped with this release (run after migrations). */
export async function syncTagDefinitions(manager: EntityManager): Promise<void> {
  await manager.query(
    `INSERT INTO tag_definition (code, name_zh, name_en, owner_line, sensitivity, subject, attribute_schema, derivation, rule)
     SELECT t.code, t.name_zh, t.name_en, t.owner_line, t.sensitivity, t.subject, t.attribute_schema, t.derivation, t.rule
       FROM jsonb_to_recordset($1::jsonb) AS t(code text, name_zh text, name_en text, owner_line text, sensitivity text,
            subject text, attribute_schema jsonb, derivation text, rule jsonb)
     ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, owner_line = EXCLUDED.owner_line,
       sensitivity = EXCLUDED.sensitivity, subject = EXCLUDED.subject, attribute_schema = EXCLUDED.attribute_schema,
       derivation = EXCLUDED.derivation, rule = EXCLUDED.rule`,
    [JSON.stringify(TAG_DEFINITIONS.map((t) => ({
      code: t.code, name_zh: t.nameZh, name_en: t.nameEn, owner_line: t.ownerLine, sensitivity: t.sensitivity, subject: t.subject,
      attribute_schema: t.attributeSchema, derivation: t.rule ? 'RULE' : 'MANUAL', rule: t.rule ?? null,
    })))],
  );
}
