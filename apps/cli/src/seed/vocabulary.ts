/**
 * Word lists for the SYNTHETIC demo district (演示数据, 合成). Nothing here describes a real person, household or
 * building: names are common surnames and given names combined at random; street names are real streets of Haishu
 * (海曙区) but their assignment to townships, the door numbers and every compound name are invented; county codes
 * are GB/T 2260 codes believed to be correct (verify before relying on them for anything but demo data).
 */

/** Common surnames (姓) with rough relative frequencies, tilted towards Zhejiang / Ningbo (应, 竺, 俞, 楼 …). */
export const SURNAMES: ReadonlyArray<readonly [string, number]> = [
  ['王', 72], ['陈', 75], ['张', 62], ['李', 60], ['徐', 40], ['周', 38], ['林', 30], ['吴', 36], ['刘', 35],
  ['胡', 30], ['朱', 26], ['杨', 28], ['黄', 28], ['孙', 20], ['郑', 22], ['赵', 20], ['沈', 18], ['何', 16],
  ['应', 12], ['俞', 12], ['邵', 10], ['蒋', 12], ['叶', 14], ['方', 10], ['金', 12], ['毛', 10], ['潘', 10],
  ['马', 10], ['高', 10], ['许', 10], ['余', 9], ['董', 8], ['袁', 7], ['郭', 8], ['罗', 7], ['梁', 6], ['谢', 7],
  ['宋', 6], ['唐', 6], ['韩', 5], ['冯', 6], ['邓', 5], ['曹', 6], ['彭', 5], ['曾', 4], ['肖', 4], ['田', 4],
  ['姚', 8], ['卢', 6], ['钱', 7], ['汪', 7], ['范', 5], ['石', 5], ['陆', 7], ['夏', 5], ['严', 5], ['史', 6],
  ['顾', 5], ['龚', 4], ['戴', 5], ['丁', 5], ['魏', 4], ['任', 4], ['程', 5], ['苏', 4], ['吕', 4], ['江', 4],
  ['汤', 4], ['贺', 3], ['钟', 3], ['崔', 2], ['姜', 3], ['谭', 2], ['廖', 2], ['邹', 3], ['孔', 2], ['秦', 3],
  ['竺', 4], ['楼', 4], ['虞', 4], ['鲍', 4], ['翁', 4], ['舒', 3], ['柴', 3], ['童', 4], ['蔡', 5], ['傅', 5],
  ['屠', 3], ['乐', 3], ['邬', 3], ['忻', 2], ['娄', 2], ['包', 3], ['洪', 3], ['单', 2], ['解', 1], ['查', 1],
  ['欧阳', 1], ['司马', 0.3], ['诸葛', 0.2],
];

/** Birth cohorts, for given names that follow the fashion of their time. */
export type NameCohort = 'OLD' | 'MIDDLE' | 'YOUNG' | 'CHILD';

export function cohortOf(birthYear: number): NameCohort {
  if (birthYear < 1963) return 'OLD';
  if (birthYear < 1985) return 'MIDDLE';
  if (birthYear < 2005) return 'YOUNG';
  return 'CHILD';
}

/** Given names (名) by cohort and sex ('1' male, '2' female). */
export const GIVEN_NAMES: Readonly<Record<NameCohort, Readonly<Record<'1' | '2', readonly string[]>>>> = {
  OLD: {
    '1': ['建国', '国庆', '建华', '国平', '志明', '德明', '永康', '福根', '金林', '荣根', '伟民', '建平', '志强', '国华',
      '长生', '海林', '明德', '兴国', '宝林', '友根', '善庆', '忠良', '阿龙', '根发', '国良', '正明', '耀祖', '定海',
      '林', '勇', '华', '明', '军', '良'],
    '2': ['秀英', '桂英', '玉兰', '秀兰', '凤英', '素珍', '美华', '翠英', '月娥', '彩娥', '菊芬', '杏娣', '美娣', '彩娣',
      '杏芬', '菊英', '爱娣', '素娟', '月琴', '雅芬', '玉珍', '宝珠', '秀珍', '桂芳', '亚娣', '阿娟', '美芬', '珍',
      '芳', '英', '兰'],
  },
  MIDDLE: {
    '1': ['伟', '磊', '军', '勇', '强', '斌', '涛', '杰', '峰', '波', '海波', '立波', '建军', '晓东', '志刚', '海峰',
      '卫东', '文杰', '俊杰', '晓峰', '国强', '伟军', '剑锋', '亚军', '雪峰', '永刚', '旭东', '科', '宁', '挺', '毅',
      '海东', '立新', '红兵'],
    '2': ['丽', '静', '敏', '燕', '娟', '芳', '霞', '萍', '丽娟', '晓燕', '海燕', '亚萍', '丽萍', '红霞', '晓红', '雪芬',
      '春燕', '美琴', '秀娟', '琴', '丹', '佳', '慧', '瑜', '蕾', '颖', '亚芬', '莉', '琳', '红', '洁', '飞燕'],
  },
  YOUNG: {
    '1': ['浩', '鹏', '超', '宇', '晨', '浩然', '子豪', '俊杰', '天宇', '宇航', '家豪', '志豪', '嘉伟', '佳豪', '鑫',
      '鑫宇', '晨阳', '博文', '昊天', '文博', '一鸣', '泽宇', '凯', '翔', '帅', '健', '哲', '俊', '亮', '斌斌', '杰'],
    '2': ['婷', '倩', '雪', '悦', '佳怡', '雨婷', '欣怡', '思琪', '梦瑶', '晓雯', '佳琪', '诗涵', '雨欣', '心怡', '梦琪',
      '静怡', '雅琪', '思雨', '可欣', '晶晶', '婷婷', '丹丹', '璐', '琪', '菲', '露', '瑶', '妍', '佳慧', '艺'],
  },
  CHILD: {
    '1': ['梓轩', '浩宇', '宇轩', '一诺', '梓睿', '沐阳', '子墨', '俊熙', '奕辰', '宇泽', '浩轩', '梓豪', '皓轩', '睿',
      '辰', '铭泽', '锦程', '承泽', '嘉懿', '子骞', '煜', '景行', '予安', '宸', '思远', '沐宸', '亦航', '逸凡'],
    '2': ['雨萱', '梓涵', '一诺', '欣妍', '可馨', '诗琪', '语桐', '梓萱', '若汐', '依诺', '子涵', '思涵', '梓彤', '芊芊',
      '欣然', '语嫣', '一涵', '可欣', '安然', '沐溪', '知夏', '嘉怡', '乐瑶', '书瑶', '念念', '星辰', '清妍', '亦菲'],
  },
};

/**
 * Real streets and roads of Haishu, grouped by the township code (9 digits) under which the demo puts them.
 * The grouping is approximate and synthetic.
 */
export const STREETS_BY_TOWNSHIP: Readonly<Record<string, readonly string[]>> = {
  '330203001': ['解放南路', '柳汀街', '长春路', '尹江路', '灵桥路', '南站西路'],
  '330203002': ['中山东路', '江厦街', '和义路', '东渡路', '药行街', '开明街'],
  '330203003': ['中山西路', '望京路', '新芝路', '西北街', '孝闻街', '苍松路'],
  '330203004': ['镇明路', '偃月街', '马衙街', '迎凤街', '天一街', '广仁街'],
  '330203005': ['公园路', '中山西路', '蔡家弄', '呼童街', '后营巷', '鼓楼步行街'],
  '330203006': ['气象路', '环城西路', '白云街', '翠柏路', '秀水街', '泰安中路'],
  '330203007': ['段塘路', '南苑街', '丽园南路', '泰康中路', '四明中路', '前丰街'],
  '330203008': ['望春路', '新典路', '布政路', '联丰路', '丽江西路', '集士港路'],
  '330203009': ['石碶中路', '栎社路', '星光路', '雅戈尔大道', '鄞县大道', '前殷路'],
  '330203100': ['高桥路', '望春路', '长乐路', '梁祝路', '岐阳路'],
  '330203101': ['横街路', '凤岙路', '桃源路', '林村路'],
  '330203102': ['集士港路', '卖面桥路', '广德湖路', '翁家路'],
  '330203103': ['古林路', '布政路', '薛家路', '蜃蛟路'],
  '330203104': ['洞桥路', '宁峰路', '百梁桥路', '沙港路'],
  '330203105': ['鄞江路', '它山堰路', '光溪路', '悬慈路'],
  '330203106': ['章水路', '杖锡路', '樟村路', '蜜岩路'],
  '330203200': ['龙观路', '五龙潭路', '雪岙路', '李岙路'],
};

/** Fallback streets for a township not listed above. */
export const DEFAULT_STREETS: readonly string[] = ['解放南路', '中山西路', '望京路', '苍松路', '气象路', '段塘路'];

/** Stems of invented compound (小区) names and their usual endings. */
export const COMPOUND_STEMS: readonly string[] = [
  '翠柏', '南苑', '丽园', '安丰', '新芝', '锦苑', '泰和', '春晖', '银苑', '月湖', '柳汀', '华光', '望湖', '书香',
  '怡江', '天水', '荷花', '雅苑', '嘉和', '瑞祥', '景福', '金都', '江南', '海晏', '兰亭', '紫薇', '丁香', '香樟',
  '银杏', '明珠', '彩虹', '晨光', '东湖', '西成', '新城', '恒春', '永寿', '双桥', '文昌', '康乐', '泰安', '通途',
];
export const COMPOUND_ENDINGS: readonly string[] = ['小区', '花园', '新村', '公寓', '苑', '家园', '名邸', '华庭'];

/** Invented employers for collective households (集体户) and their dormitories (职工宿舍). */
export const EMPLOYER_STEMS: readonly string[] = ['顺达', '恒丰', '宏远', '金鼎', '华诚', '永盛', '新亚', '东方', '海联', '甬兴'];
export const EMPLOYER_TRADES: readonly string[] = ['机械', '电器', '服装', '模具', '塑料制品', '物流', '食品', '纺织'];

/** A county (县级) of origin: GB/T 2260 code and its name with province and city. */
export interface CountyOfOrigin {
  code: string;
  place: string;
  /** Share of She (畲族, code 22) among people from here (Jingning is a She autonomous county). */
  sheShare?: number;
  /** Ethnic groups other than Han and She found among people from here, with their share. */
  minority?: readonly [string, number];
}

/**
 * Where the floating population (流动人口) of the demo comes from, with weights. Codes of other provinces
 * are believed correct; some are old codes, still valid inside ID numbers.
 */
export const FLOATING_ORIGINS: ReadonlyArray<readonly [CountyOfOrigin, number]> = [
  [{ code: '341221', place: '安徽省阜阳市临泉县' }, 8],
  [{ code: '341222', place: '安徽省阜阳市太和县' }, 6],
  [{ code: '341225', place: '安徽省阜阳市阜南县' }, 5],
  [{ code: '341226', place: '安徽省阜阳市颍上县' }, 4],
  [{ code: '341322', place: '安徽省宿州市萧县' }, 3],
  [{ code: '411525', place: '河南省信阳市固始县' }, 6],
  [{ code: '411522', place: '河南省信阳市光山县' }, 3],
  [{ code: '411526', place: '河南省信阳市潢川县' }, 3],
  [{ code: '360781', place: '江西省赣州市瑞金市' }, 4],
  [{ code: '520521', place: '贵州省毕节市大方县', minority: ['09', 0.15] }, 5],
  [{ code: '522422', place: '贵州省毕节地区大方县', minority: ['09', 0.15] }, 2],
  [{ code: '511621', place: '四川省广安市岳池县' }, 4],
  [{ code: '510722', place: '四川省绵阳市三台县' }, 3],
  [{ code: '511321', place: '四川省南充市南部县' }, 3],
  [{ code: '421127', place: '湖北省黄冈市黄梅县' }, 3],
  [{ code: '430524', place: '湖南省邵阳市隆回县', minority: ['06', 0.1] }, 3],
  [{ code: '500101', place: '重庆市万州区' }, 3],
  [{ code: '500233', place: '重庆市忠县', minority: ['15', 0.05] }, 2],
  [{ code: '320382', place: '江苏省徐州市邳州市' }, 2],
  [{ code: '371321', place: '山东省临沂市沂南县' }, 2],
  [{ code: '450881', place: '广西壮族自治区贵港市桂平市', minority: ['08', 0.3] }, 2],
  [{ code: '331127', place: '浙江省丽水市景宁畲族自治县', sheShare: 0.35 }, 3],
  [{ code: '331121', place: '浙江省丽水市青田县' }, 2],
  [{ code: '330382', place: '浙江省温州市乐清市' }, 3],
  [{ code: '331081', place: '浙江省台州市温岭市' }, 3],
  [{ code: '331022', place: '浙江省台州市三门县' }, 3],
  [{ code: '330624', place: '浙江省绍兴市新昌县' }, 2],
  [{ code: '330825', place: '浙江省衢州市龙游县', sheShare: 0.05 }, 2],
];

/**
 * Address codes inside the ID numbers of registered residents who first registered outside Haishu (moved their
 * hukou in later): mostly other Ningbo districts and counties, then the rest of Zhejiang. Weighted.
 * 330227 (鄞县) and 330283 (奉化市) are retired codes, kept for people born before the change.
 */
export const MOVED_IN_ORIGINS: ReadonlyArray<readonly [CountyOfOrigin, number]> = [
  [{ code: '330205', place: '浙江省宁波市江北区' }, 8],
  [{ code: '330206', place: '浙江省宁波市北仑区' }, 5],
  [{ code: '330211', place: '浙江省宁波市镇海区' }, 5],
  [{ code: '330212', place: '浙江省宁波市鄞州区' }, 8],
  [{ code: '330225', place: '浙江省宁波市象山县' }, 4],
  [{ code: '330226', place: '浙江省宁波市宁海县' }, 4],
  [{ code: '330281', place: '浙江省宁波市余姚市' }, 5],
  [{ code: '330282', place: '浙江省宁波市慈溪市' }, 5],
  [{ code: '330283', place: '浙江省宁波市奉化市' }, 3],
  [{ code: '330106', place: '浙江省杭州市西湖区' }, 2],
  [{ code: '330381', place: '浙江省温州市瑞安市' }, 2],
  [{ code: '330683', place: '浙江省绍兴市嵊州市' }, 2],
  [{ code: '331082', place: '浙江省台州市临海市' }, 2],
  [{ code: '330782', place: '浙江省金华市义乌市' }, 1],
  [{ code: '331127', place: '浙江省丽水市景宁畲族自治县', sheShare: 0.35 }, 1],
  [{ code: '341221', place: '安徽省阜阳市临泉县' }, 1],
  [{ code: '421127', place: '湖北省黄冈市黄梅县' }, 1],
];

/** Village-style place words for invented home addresses of floating residents (户籍地址). */
export const HOME_TOWN_STEMS: readonly string[] = ['城关', '新集', '李集', '王庄', '张湾', '河口', '石桥', '杨柳', '清水', '双河', '白果', '龙山'];

/** Mobile number prefixes (号段) of the three carriers. */
export const MOBILE_PREFIXES: readonly string[] = [
  '130', '131', '132', '133', '134', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155', '156',
  '157', '158', '159', '166', '173', '177', '180', '181', '182', '183', '185', '186', '187', '188', '189', '191',
  '198', '199',
];

/** Veteran / entitled categories (退役军人 / 优抚对象), free text in the tag's `category`. */
export const VETERAN_CATEGORIES: ReadonlyArray<readonly [string, number]> = [
  ['退役士兵', 70], ['复员军人', 10], ['转业军官', 8], ['伤残军人', 4], ['烈士遗属', 2], ['带病回乡退伍军人', 6],
];
