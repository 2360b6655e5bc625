"""Plausible Chinese names for the demo: buildings, companies, people, agencies, and valid credit codes."""

import random

from crm.credit_code import credit_code_check_character

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵钱严武戴孔汤俞傅楼裘"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文斌辉玲婷宇浩凯鹏飞俊峰波晨晓雪红梅琳佳颖欣"
    "怡然嘉豪子轩宁远振东海燕志刚永新立群卫民亚楠思源雨桐诗涵梓萱一鸣天佑泽宇铭哲越舟"
)
# Characters that make up a company's trade name (字号); two of them give thousands of names.
BRAND = (
    "恒信达华泰盛鑫源宏远诚瑞祥和丰嘉兴隆鼎汇金银通博创新科智云天海龙凯安宁康中联合众德正元亨利福万邦"
    "宇星光明辉腾飞越稽兰亭鉴湖会卓峰岳川江河沣澜润泽晟昊煜昕耀鸿鹏程锦绣贤良善美佳优睿哲思维新立本"
    "诺信谷禾森林松柏翠竹梅青蓝紫朗易简方圆齐鲁吴越秦汉唐宋舜禹古今实业同仁乾坤泓沁尚品臻致远弘毅"
)
PLACES_LOCAL = ("绍兴", "绍兴", "绍兴", "浙江", "浙江", "绍兴市越城区")
PLACES_OUTSIDE = ("杭州", "上海", "宁波", "浙江", "江苏", "深圳", "北京")
# Regions (the 3rd–8th characters of a credit code) outside the district, for firms registered elsewhere.
OUTSIDE_REGIONS = ("330603", "330604", "330106", "310115", "330212", "320506", "440305", "110108")

# Per GB/T 4754 division: words that make a company's name say what it does.
BUSINESS_WORDS: dict[str, tuple[str, ...]] = {
    "17": ("纺织", "印染", "家纺"),
    "18": ("服饰", "服装"),
    "28": ("化纤", "新材料"),
    "48": ("建设工程", "市政工程"),
    "50": ("装饰工程", "建筑装饰设计"),
    "51": ("贸易", "商贸", "进出口", "纺织品", "供应链管理", "化纤贸易", "实业"),
    "52": ("商贸", "百货", "连锁超市"),
    "58": ("国际货运代理", "物流", "供应链"),
    "62": ("餐饮管理", "餐饮"),
    "63": ("通信技术", "网络传输"),
    "64": ("网络科技", "互联网科技", "电子商务", "数字科技"),
    "65": ("软件", "信息技术", "数据科技", "智能科技", "信息系统"),
    "66": ("小额贷款", "金融服务"),
    "67": ("投资管理", "资产管理", "股权投资", "证券投资咨询", "私募基金管理"),
    "68": ("保险代理", "保险经纪", "保险公估"),
    "69": ("融资租赁", "商业保理", "金融信息服务", "融资担保"),
    "70": ("房地产开发", "物业管理", "房地产经纪", "置业"),
    "71": ("设备租赁", "汽车租赁"),
    "72": ("企业管理咨询", "商务咨询", "人力资源", "会展服务", "广告", "知识产权代理", "企业管理"),
    "73": ("生物科技", "新材料研究"),
    "74": ("工程设计", "检测技术", "建筑设计", "工程咨询"),
    "75": ("科技服务", "技术转移", "科技孵化器"),
    "83": ("教育科技", "职业培训"),
    "84": ("健康管理", "医疗科技"),
    "86": ("文化传媒", "出版"),
    "87": ("影视文化", "影视传媒"),
    "88": ("文化艺术", "艺术设计"),
}
# Firms of these divisions are partnerships, not companies, often enough to show in the names.
PARTNERSHIP_WORDS = {
    "72": ("律师事务所", "会计师事务所（普通合伙）"),
    "67": ("股权投资合伙企业（有限合伙）",),
}

BUILDING_PREFIXES = (
    "越州",
    "会稽",
    "鉴湖",
    "兰亭",
    "蕺山",
    "卧龙",
    "古越",
    "镜湖",
    "若耶",
    "越秀",
    "世茂",
    "国金",
    "汇金",
    "环球",
    "国贸",
    "财富",
    "金融",
    "中兴",
    "解放",
    "人民",
    "胜利",
    "延安",
    "浙商",
    "银泰",
    "华宇",
    "恒泰",
    "嘉德",
    "中天",
    "天成",
    "永和",
    "宝业",
    "轻纺",
    "曹娥",
    "禹陵",
    "沈园",
    "秋瑾",
    "鲁迅",
    "大禹",
    "舜江",
    "越都",
    "金德隆",
    "海港",
)
BUILDING_SUFFIXES = (
    "大厦",
    "国际大厦",
    "中心",
    "商务中心",
    "金融中心",
    "广场",
    "国际广场",
    "商务楼",
    "科创园",
    "创意园",
    "写字楼",
    "总部大楼",
    "财富中心",
    "时代大厦",
    "银座",
    "国际",
    "双子座",
    "商务港",
)
BUILDING_VARIANTS = (
    "",
    "A座",
    "B座",
    "C座",
    "二期",
    "三期",
    "东楼",
    "西楼",
    "南楼",
    "北楼",
    "1号楼",
    "2号楼",
)

LOST_REASONS = (
    "价格超出预算",
    "选择了其他区县的园区",
    "面积需求无法满足",
    "企业暂缓扩张计划",
    "政策条件不满足",
    "多次联系未果",
    "总部决定不在本地设点",
    "对交通配套不满意",
)


def gb11714_check(digits8: str) -> str:
    """The check character of the 9-character organisation code (GB 11714) inside a credit code."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    remainder = 11 - sum(int(d) * w for d, w in zip(digits8, weights, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


class CreditCodes:
    """Valid, unique unified social credit codes: 91 + region + organisation code + check character."""

    # An odd multiplier that is not a multiple of 5 is a bijection on 0..10^8-1, so codes never repeat.
    MULTIPLIER = 48271
    MODULUS = 100_000_000

    def __init__(self, start: int = 0) -> None:
        self.issued = start

    def next(self, region: str = "330602") -> str:
        self.issued += 1
        digits8 = f"{(self.issued * self.MULTIPLIER + 12_345_678) % self.MODULUS:08d}"
        first17 = f"91{region}{digits8}{gb11714_check(digits8)}"
        return first17 + credit_code_check_character(first17)


class NameMaker:
    """Draws names from one random.Random and never hands out the same company or building name twice."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._companies: set[str] = set()
        self._buildings: set[str] = set()

    def person(self) -> str:
        given = self.rng.choice(GIVEN) + (self.rng.choice(GIVEN) if self.rng.random() < 0.7 else "")
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        return f"1{self.rng.choice('35789')}{self.rng.randrange(10**9):09d}"

    def company(self, division: str, *, local: bool = True) -> str:
        words = BUSINESS_WORDS.get(division, ("实业",))
        for attempt in range(200):
            place = self.rng.choice(PLACES_LOCAL if local else PLACES_OUTSIDE)
            length = 2 if attempt < 40 else 3
            brand = "".join(self.rng.choice(BRAND) for _ in range(length))
            if brand[0] == brand[1]:
                continue
            partnership = PARTNERSHIP_WORDS.get(division)
            if partnership and self.rng.random() < 0.08:
                name = f"{place}{brand}{self.rng.choice(partnership)}"
            else:
                form = "股份有限公司" if self.rng.random() < 0.06 else "有限公司"
                name = f"{place}{brand}{self.rng.choice(words)}{form}"
            if name not in self._companies:
                self._companies.add(name)
                return name
        raise RuntimeError("公司名称已用尽 / ran out of company names")

    def building(self, prefixes: tuple[str, ...] = BUILDING_PREFIXES) -> str:
        for variant in BUILDING_VARIANTS:
            for _ in range(30):
                name = f"{self.rng.choice(prefixes)}{self.rng.choice(BUILDING_SUFFIXES)}{variant}"
                if name not in self._buildings:
                    self._buildings.add(name)
                    return name
        raise RuntimeError("楼宇名称已用尽 / ran out of building names")

    def agency(self, kind: str, home: str = "绍兴") -> str:
        provinces = ("温州", "福建", "江西", "安徽", "河南", "湖北", "四川", "台州", "宁波", "湖南", "广东")
        for _ in range(200):
            brand = "".join(self.rng.sample(BRAND, 2))
            if kind == "chamber":
                name = f"{home}市{self.rng.choice(provinces)}商会" + (
                    "" if self.rng.random() < 0.5 else "联合会"
                )
            elif kind == "service_firm":
                name = f"{home}{brand}产业服务有限公司"
            else:
                name = f"{home}{brand}{self.rng.choice(('商务咨询', '房地产经纪', '招商服务'))}有限公司"
            if name not in self._companies:
                self._companies.add(name)
                return name
        raise RuntimeError("机构名称已用尽 / ran out of agency names")
