/**
 * National and platform code lists (代码表) as data.
 *
 * GB/T lists keep their official codes; lists without a national standard use stable upper-case
 * English codes defined by the platform.
 */

export interface CodeEntry {
  code: string;
  nameZh: string;
  nameEn: string;
  /** Code of the enclosing category in hierarchical lists (e.g. 21 初婚 → 20 已婚). */
  parentCode?: string;
}

export type CodeListName =
  | 'sex'
  | 'ethnicity'
  | 'relationship'
  | 'political_status'
  | 'education'
  | 'marital_status'
  | 'employment'
  | 'registration_type'
  | 'household_kind'
  | 'population_type'
  | 'household_relation'
  | 'id_type'
  | 'residence_kind'
  | 'dwelling_use';

export const CODE_LIST_NAMES: CodeListName[] = [
  'sex',
  'ethnicity',
  'relationship',
  'political_status',
  'education',
  'marital_status',
  'employment',
  'registration_type',
  'household_kind',
  'population_type',
  'household_relation',
  'id_type',
  'residence_kind',
  'dwelling_use',
];

function entry(code: string, nameZh: string, nameEn: string, parentCode?: string): CodeEntry {
  return parentCode === undefined ? { code, nameZh, nameEn } : { code, nameZh, nameEn, parentCode };
}

/** Sex (性别), GB/T 2261.1. */
const SEX: CodeEntry[] = [
  entry('0', '未知的性别', 'Unknown'),
  entry('1', '男性', 'Male'),
  entry('2', '女性', 'Female'),
  entry('9', '未说明的性别', 'Unstated'),
];

/**
 * Ethnicity (民族), GB/T 3304: 56 ethnic groups in the standard's order, with the standard's
 * two-letter romanisation code in nameEn, plus 97 other and 98 foreign-born Chinese citizen.
 */
const ETHNIC_GROUPS: ReadonlyArray<readonly [string, string, string]> = [
  ['汉族', 'Han', 'HA'],
  ['蒙古族', 'Mongol', 'MG'],
  ['回族', 'Hui', 'HU'],
  ['藏族', 'Tibetan', 'ZA'],
  ['维吾尔族', 'Uyghur', 'UG'],
  ['苗族', 'Miao', 'MH'],
  ['彝族', 'Yi', 'YI'],
  ['壮族', 'Zhuang', 'ZH'],
  ['布依族', 'Bouyei', 'BY'],
  ['朝鲜族', 'Korean', 'CS'],
  ['满族', 'Manchu', 'MA'],
  ['侗族', 'Dong', 'DO'],
  ['瑶族', 'Yao', 'YA'],
  ['白族', 'Bai', 'BA'],
  ['土家族', 'Tujia', 'TJ'],
  ['哈尼族', 'Hani', 'HN'],
  ['哈萨克族', 'Kazak', 'KZ'],
  ['傣族', 'Dai', 'DA'],
  ['黎族', 'Li', 'LI'],
  ['傈僳族', 'Lisu', 'LS'],
  ['佤族', 'Va', 'VA'],
  ['畲族', 'She', 'SH'],
  ['高山族', 'Gaoshan', 'GS'],
  ['拉祜族', 'Lahu', 'LH'],
  ['水族', 'Sui', 'SU'],
  ['东乡族', 'Dongxiang', 'DX'],
  ['纳西族', 'Naxi', 'NX'],
  ['景颇族', 'Jingpo', 'JP'],
  ['柯尔克孜族', 'Kirgiz', 'KG'],
  ['土族', 'Tu', 'TU'],
  ['达斡尔族', 'Daur', 'DU'],
  ['仫佬族', 'Mulao', 'ML'],
  ['羌族', 'Qiang', 'QI'],
  ['布朗族', 'Blang', 'BL'],
  ['撒拉族', 'Salar', 'SL'],
  ['毛南族', 'Maonan', 'MN'],
  ['仡佬族', 'Gelao', 'GL'],
  ['锡伯族', 'Xibe', 'XB'],
  ['阿昌族', 'Achang', 'AC'],
  ['普米族', 'Pumi', 'PM'],
  ['塔吉克族', 'Tajik', 'TA'],
  ['怒族', 'Nu', 'NU'],
  ['乌孜别克族', 'Uzbek', 'UZ'],
  ['俄罗斯族', 'Russian', 'RS'],
  ['鄂温克族', 'Ewenki', 'EW'],
  ['德昂族', "De'ang", 'DE'],
  ['保安族', 'Bonan', 'BN'],
  ['裕固族', 'Yugur', 'YG'],
  ['京族', 'Gin', 'GI'],
  ['塔塔尔族', 'Tatar', 'TT'],
  ['独龙族', 'Derung', 'DR'],
  ['鄂伦春族', 'Oroqen', 'OR'],
  ['赫哲族', 'Hezhen', 'HZ'],
  ['门巴族', 'Monba', 'MB'],
  ['珞巴族', 'Lhoba', 'LB'],
  ['基诺族', 'Jino', 'JN'],
];

const ETHNICITY: CodeEntry[] = [
  ...ETHNIC_GROUPS.map(([nameZh, nameEn, roman], index) =>
    entry(String(index + 1).padStart(2, '0'), nameZh, `${nameEn} (${roman})`),
  ),
  entry('97', '其他', 'Other'),
  entry('98', '外国血统中国籍人士', 'Chinese citizen of foreign origin'),
];

/**
 * Family relationship (家庭关系), GB/T 4761-2008: the codes the platform uses.
 * Two-digit codes ending in 0 are categories; their members point at them through parentCode.
 */
const RELATIONSHIP: CodeEntry[] = [
  entry('01', '本人', 'Self'),
  entry('02', '户主', 'Household head'),
  entry('10', '配偶', 'Spouse'),
  entry('11', '夫', 'Husband', '10'),
  entry('12', '妻', 'Wife', '10'),
  entry('20', '子', 'Son'),
  entry('21', '独生子', 'Only son', '20'),
  entry('22', '长子', 'Eldest son', '20'),
  entry('23', '次子', 'Second son', '20'),
  entry('27', '养子或继子', 'Adopted son or stepson', '20'),
  entry('28', '女婿', 'Son-in-law', '20'),
  entry('30', '女', 'Daughter'),
  entry('31', '独生女', 'Only daughter', '30'),
  entry('32', '长女', 'Eldest daughter', '30'),
  entry('37', '养女或继女', 'Adopted daughter or stepdaughter', '30'),
  entry('38', '儿媳', 'Daughter-in-law', '30'),
  entry('40', '孙子、孙女或外孙子、外孙女', 'Grandchild'),
  entry('41', '孙子', "Grandson (son's son)", '40'),
  entry('42', '孙女', "Granddaughter (son's daughter)", '40'),
  entry('43', '外孙子', "Grandson (daughter's son)", '40'),
  entry('44', '外孙女', "Granddaughter (daughter's daughter)", '40'),
  entry('50', '父母', 'Parent'),
  entry('51', '父亲', 'Father', '50'),
  entry('52', '母亲', 'Mother', '50'),
  entry('53', '公公', "Husband's father", '50'),
  entry('54', '婆婆', "Husband's mother", '50'),
  entry('55', '岳父', "Wife's father", '50'),
  entry('56', '岳母', "Wife's mother", '50'),
  entry('60', '祖父母或外祖父母', 'Grandparent'),
  entry('61', '祖父', 'Paternal grandfather', '60'),
  entry('62', '祖母', 'Paternal grandmother', '60'),
  entry('63', '外祖父', 'Maternal grandfather', '60'),
  entry('64', '外祖母', 'Maternal grandmother', '60'),
  entry('70', '兄弟姐妹', 'Sibling'),
  entry('71', '兄', 'Elder brother', '70'),
  entry('73', '弟', 'Younger brother', '70'),
  entry('75', '姐姐', 'Elder sister', '70'),
  entry('77', '妹妹', 'Younger sister', '70'),
  entry('80', '其他', 'Other'),
  entry('93', '侄子', "Nephew (brother's son)", '80'),
  entry('95', '外甥', "Nephew (sister's son)", '80'),
  entry('97', '其他亲属', 'Other relative', '80'),
  entry('99', '非亲属', 'Non-relative'),
];

/** Political status (政治面貌), GB/T 4762. */
const POLITICAL_STATUS: CodeEntry[] = [
  entry('01', '中共党员', 'CPC member'),
  entry('02', '中共预备党员', 'CPC probationary member'),
  entry('03', '共青团员', 'Communist Youth League member'),
  entry('04', '民革会员', 'Member of the Revolutionary Committee of the Chinese Kuomintang'),
  entry('05', '民盟盟员', 'Member of the China Democratic League'),
  entry('06', '民建会员', 'Member of the China National Democratic Construction Association'),
  entry('07', '民进会员', 'Member of the China Association for Promoting Democracy'),
  entry('08', '农工党党员', "Member of the Chinese Peasants' and Workers' Democratic Party"),
  entry('09', '致公党党员', 'Member of the China Zhi Gong Party'),
  entry('10', '九三学社社员', 'Member of the Jiusan Society'),
  entry('11', '台盟盟员', 'Member of the Taiwan Democratic Self-Government League'),
  entry('12', '无党派人士', 'Non-party personage'),
  entry('13', '群众', 'Ordinary citizen'),
];

/**
 * Education (学历), GB/T 4658-2006: the category codes, plus 11 and 14 (doctorate / master graduates)
 * under 10 研究生教育. Finer sub-codes are left out until confirmed.
 */
const EDUCATION: CodeEntry[] = [
  entry('10', '研究生教育', 'Postgraduate'),
  entry('11', '博士研究生毕业', 'Doctorate', '10'),
  entry('14', '硕士研究生毕业', "Master's degree", '10'),
  entry('20', '大学本科教育', 'Bachelor'),
  entry('30', '大学专科教育', 'College (associate)'),
  entry('40', '中等职业教育', 'Secondary vocational'),
  entry('60', '普通高级中学教育', 'Senior high school'),
  entry('70', '初级中学教育', 'Junior high school'),
  entry('80', '小学教育', 'Primary school'),
  entry('90', '其他', 'Other'),
];

/** Marital status (婚姻状况), GB/T 2261.2. */
const MARITAL_STATUS: CodeEntry[] = [
  entry('10', '未婚', 'Unmarried'),
  entry('20', '已婚', 'Married'),
  entry('21', '初婚', 'First marriage', '20'),
  entry('22', '再婚', 'Remarried', '20'),
  entry('23', '复婚', 'Re-wed to former spouse', '20'),
  entry('30', '丧偶', 'Widowed'),
  entry('40', '离婚', 'Divorced'),
  entry('90', '未说明的婚姻状况', 'Unstated'),
];

/** Employment status (从业状况), GB/T 2261.4. */
const EMPLOYMENT: CodeEntry[] = [
  entry('11', '国家公务员', 'Civil servant'),
  entry('13', '专业技术人员', 'Professional'),
  entry('17', '职员', 'Clerk'),
  entry('21', '企业管理人员', 'Enterprise manager'),
  entry('24', '工人', 'Worker'),
  entry('27', '农民', 'Farmer'),
  entry('31', '学生', 'Student'),
  entry('37', '现役军人', 'Serving military'),
  entry('51', '自由职业者', 'Freelance'),
  entry('54', '个体经营者', 'Self-employed'),
  entry('70', '无业人员', 'Unemployed'),
  entry('80', '退（离）休人员', 'Retired'),
  entry('90', '其他', 'Other'),
];

/**
 * Household registration type (户口类别), GA/T 2000.27 top-level codes only; the sub-codes
 * (11, 12, 21, 22) are not included because their exact names are not confirmed.
 */
const REGISTRATION_TYPE: CodeEntry[] = [
  entry('10', '家庭户', 'Family household'),
  entry('20', '集体户', 'Collective household'),
  entry('30', '未落户', 'Not settled'),
  entry('90', '其他', 'Other'),
];

/** Household kind (户别), platform list. */
const HOUSEHOLD_KIND: CodeEntry[] = [
  entry('FAMILY', '家庭户', 'Family household'),
  entry('COLLECTIVE', '集体户', 'Collective household'),
];

/** Population type (人口类型), platform list. */
const POPULATION_TYPE: CodeEntry[] = [
  entry('REGISTERED', '户籍人口', 'Registered population'),
  entry('FLOATING', '流动人口', 'Floating population'),
  entry('UNSETTLED', '未落户人口', 'Unsettled population'),
  entry('FOREIGN', '境外人员', 'Person from outside the mainland'),
];

/** Person–household relation (人户关系), platform list. */
const HOUSEHOLD_RELATION: CodeEntry[] = [
  entry('TOGETHER', '人户同在', 'Registered and living here'),
  entry('AWAY', '户在人不在', 'Registered here, living elsewhere'),
  entry('RESIDENT_ONLY', '人在户不在', 'Living here, registered elsewhere'),
];

/** Identity document type (证件类型), platform list. */
const ID_TYPE: CodeEntry[] = [
  entry('RESIDENT_ID', '居民身份证', 'Resident identity card'),
  entry('HMT_PERMIT', '港澳台居民居住证/通行证', 'Hong Kong / Macao / Taiwan resident permit or travel permit'),
  entry('PASSPORT', '护照', 'Passport'),
  entry('FOREIGN_PR', '外国人永久居留身份证', 'Foreign permanent resident ID card'),
  entry('NONE', '无证件', 'No document'),
];

/** Residence kind (居住方式), platform list. */
const RESIDENCE_KIND: CodeEntry[] = [
  entry('OWNER', '自有住房', 'Own home'),
  entry('TENANT', '租住', 'Tenant'),
  entry('RELATIVE', '借住亲友', 'Staying with relatives or friends'),
  entry('COLLECTIVE', '集体宿舍', 'Collective dormitory'),
  entry('OTHER', '其他', 'Other'),
];

/** Dwelling use (房屋用途), platform list. */
const DWELLING_USE: CodeEntry[] = [
  entry('OWN', '自住', 'Owner-occupied'),
  entry('RENTED', '出租', 'Rented out'),
  entry('VACANT', '空置', 'Vacant'),
  entry('BUSINESS', '经营', 'Business use'),
];

export const CODE_LISTS: Record<CodeListName, CodeEntry[]> = {
  sex: SEX,
  ethnicity: ETHNICITY,
  relationship: RELATIONSHIP,
  political_status: POLITICAL_STATUS,
  education: EDUCATION,
  marital_status: MARITAL_STATUS,
  employment: EMPLOYMENT,
  registration_type: REGISTRATION_TYPE,
  household_kind: HOUSEHOLD_KIND,
  population_type: POPULATION_TYPE,
  household_relation: HOUSEHOLD_RELATION,
  id_type: ID_TYPE,
  residence_kind: RESIDENCE_KIND,
  dwelling_use: DWELLING_USE,
};

/** Lookup index, built once at module load. */
const INDEX: ReadonlyMap<CodeListName, ReadonlyMap<string, CodeEntry>> = new Map(
  CODE_LIST_NAMES.map((name) => [name, new Map(CODE_LISTS[name].map((e) => [e.code, e]))] as const),
);

/** Whether `code` is a code of `list` (exact match: '1' is not '01'). */
export function isValidCode(list: CodeListName, code: string): boolean {
  return INDEX.get(list)?.has(code) ?? false;
}

/** The entry of `code` in `list`, or undefined. */
export function codeName(list: CodeListName, code: string): CodeEntry | undefined {
  return INDEX.get(list)?.get(code);
}
