// National code tables (domain-notes §3.6). Codes are strings because the
// standards define them with leading zeros ("01") and store them as text.
// Beware public code with wrong tables: 土家族 and 哈尼族 are 15 and 16, and
// GB/T 4658 education codes are two-digit 11–90, never 01–08.

type CodeTuple<T> = [keyof T & string, ...Array<keyof T & string>];

// Sorted as strings so '01'…'09' come before '10' (Object.keys would put
// integer-like keys such as '10' first). The tuple type is what z.enum needs.
function codeTuple<T extends Record<string, string>>(table: T): CodeTuple<T> {
  return Object.keys(table).sort() as CodeTuple<T>;
}

/** "code label" pairs joined by "; " in code order, e.g. "1 男; 2 女", for OpenAPI descriptions. */
export function describeCodes(table: Record<string, string>): string {
  return Object.keys(table)
    .sort()
    .map((code) => `${code} ${table[code]}`)
    .join('; ');
}

/** 性别, GB/T 2261.1-2003. */
export const GENDER_CODES = {
  '0': '未知的性别',
  '1': '男',
  '2': '女',
  '9': '未说明的性别',
} as const;
export type GenderCode = keyof typeof GENDER_CODES;
export const GENDER = codeTuple(GENDER_CODES);

/** 民族, GB/T 3304-1991: 56 nationalities plus 97 其他 and 98 外国血统中国籍人士. */
export const ETHNICITY_CODES = {
  '01': '汉族',
  '02': '蒙古族',
  '03': '回族',
  '04': '藏族',
  '05': '维吾尔族',
  '06': '苗族',
  '07': '彝族',
  '08': '壮族',
  '09': '布依族',
  '10': '朝鲜族',
  '11': '满族',
  '12': '侗族',
  '13': '瑶族',
  '14': '白族',
  '15': '土家族',
  '16': '哈尼族',
  '17': '哈萨克族',
  '18': '傣族',
  '19': '黎族',
  '20': '傈僳族',
  '21': '佤族',
  '22': '畲族',
  '23': '高山族',
  '24': '拉祜族',
  '25': '水族',
  '26': '东乡族',
  '27': '纳西族',
  '28': '景颇族',
  '29': '柯尔克孜族',
  '30': '土族',
  '31': '达斡尔族',
  '32': '仫佬族',
  '33': '羌族',
  '34': '布朗族',
  '35': '撒拉族',
  '36': '毛南族',
  '37': '仡佬族',
  '38': '锡伯族',
  '39': '阿昌族',
  '40': '普米族',
  '41': '塔吉克族',
  '42': '怒族',
  '43': '乌孜别克族',
  '44': '俄罗斯族',
  '45': '鄂温克族',
  '46': '德昂族',
  '47': '保安族',
  '48': '裕固族',
  '49': '京族',
  '50': '塔塔尔族',
  '51': '独龙族',
  '52': '鄂伦春族',
  '53': '赫哲族',
  '54': '门巴族',
  '55': '珞巴族',
  '56': '基诺族',
  '97': '其他',
  '98': '外国血统中国籍人士',
} as const;
export type EthnicityCode = keyof typeof ETHNICITY_CODES;
export const ETHNICITY = codeTuple(ETHNICITY_CODES);

/** 政治面貌, GB/T 4762 (local extras such as 少先队员 are not GB and are excluded). */
export const POLITICAL_STATUS_CODES = {
  '01': '中国共产党党员',
  '02': '中国共产党预备党员',
  '03': '中国共产主义青年团团员',
  '04': '中国国民党革命委员会会员',
  '05': '中国民主同盟盟员',
  '06': '中国民主建国会会员',
  '07': '中国民主促进会会员',
  '08': '中国农工民主党党员',
  '09': '中国致公党党员',
  '10': '九三学社社员',
  '11': '台湾民主自治同盟盟员',
  '12': '无党派民主人士',
  '13': '群众',
} as const;
export type PoliticalStatusCode = keyof typeof POLITICAL_STATUS_CODES;
export const POLITICAL_STATUS = codeTuple(POLITICAL_STATUS_CODES);

/**
 * 学历, GB/T 4658-2006. Group codes (x0) are valid too, for records that only
 * know the level (e.g. 20 大学本科) and not the outcome.
 */
export const EDUCATION_CODES = {
  '10': '研究生教育',
  '11': '博士研究生毕业',
  '12': '博士研究生结业',
  '13': '博士研究生肄业',
  '14': '硕士研究生毕业',
  '15': '硕士研究生结业',
  '16': '硕士研究生肄业',
  '17': '研究生班毕业',
  '18': '研究生班结业',
  '19': '研究生班肄业',
  '20': '大学本科',
  '21': '大学本科毕业',
  '22': '大学本科结业',
  '23': '大学本科肄业',
  '28': '大学普通班毕业',
  '30': '专科教育',
  '31': '大学专科毕业',
  '32': '大学专科结业',
  '33': '大学专科肄业',
  '40': '中等职业教育',
  '41': '中等专科毕业',
  '42': '中等专科结业',
  '43': '中等专科肄业',
  '44': '职业高中毕业',
  '45': '职业高中结业',
  '46': '职业高中肄业',
  '47': '技工学校毕业',
  '48': '技工学校结业',
  '49': '技工学校肄业',
  '60': '普通高级中学教育',
  '61': '普通高中毕业',
  '62': '普通高中结业',
  '63': '普通高中肄业',
  '70': '初级中学教育',
  '71': '初中毕业',
  '72': '初中肄业',
  '80': '小学教育',
  '81': '小学毕业',
  '82': '小学肄业',
  '90': '其他',
} as const;
export type EducationCode = keyof typeof EDUCATION_CODES;
export const EDUCATION = codeTuple(EDUCATION_CODES);
