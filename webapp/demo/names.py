"""Word lists for the demo subdistrict: plausible Qingdao (城阳) names, people and phones.

Kept apart from the geometry so the layout reads as geometry; every choice goes through the
caller's ``random.Random`` so the output depends on the seed alone.
"""

from __future__ import annotations

import random

SUBDISTRICT_NAME = "城阳街道"
DISTRICT_ADDRESS = "青岛市城阳区"

COMMUNITY_NAMES = (
    "城阳社区",
    "正阳社区",
    "文阳社区",
    "长城社区",
    "春阳社区",
    "青威社区",
    "国城社区",
    "古庙社区",
)

# East-west roads (…路), south to north, and north-south streets (…街), west to east.
EAST_WEST_ROADS = "春阳路 正阳路 文阳路 明阳路 长城路 兴阳路 崇阳路 德阳路 青威路".split()
NORTH_SOUTH_STREETS = (
    "黑龙江街 重庆北街 古庙街 国城街 和阳街 仁和街 华城街 太和街 顺德街 "
    "旺疃街 祥和街 兴城街 礼阳街 北曲街 丹山街 少山街 惜福街 河套街 "
    "流亭街 桃林街 双元街 天河街 白沙河街 墨水河街 富春江街"
).split()

COMPOUND_STEMS = (
    "丽水 锦绣 御景 阳光 世纪 翡翠 碧海 金岸 银河 蓝湾 东方 和谐 幸福 华府 "
    "书香 紫荆 海德 名都 盛世 春晖 万和 鸿泰 泰和 怡景 馨苑 龙湖 玉兰 海尚 "
    "嘉和 瑞源 康城 宝龙 天泰 鲁商 青特 海信 中南 绿城 文昌 新华"
).split()
COMPOUND_SUFFIXES = (
    "花园 佳园 小区 公馆 家园 雅苑 新城 华庭 名邸 尚城 府 里 雅居 丽景 山庄 国际"
).split()
PROPERTY_COMPANIES = (
    "青岛海信物业服务有限公司",
    "青岛万科物业服务有限公司",
    "青岛城阳城投物业管理有限公司",
    "青岛鲁商物业服务有限公司",
    "青岛银盛泰物业管理有限公司",
    "绿城物业服务集团有限公司青岛分公司",
    "青岛天泰物业管理有限公司",
    "青岛青特物业管理有限公司",
    "青岛宝龙物业管理有限公司",
)

PLACES = {
    # kind: name templates; "{}" takes the stem of the community the place lies in.
    "学校": ("{}小学", "{}第二小学", "{}实验中学", "{}中学"),
    "工地": ("{}安置区建设项目工地", "{}片区改造工地", "地铁8号线{}站施工工地"),
    "市场商场": ("{}农贸市场", "宝龙城市广场", "{}便民市场"),
    "车站": ("城阳汽车站", "{}公交枢纽站"),
    "景区": ("白沙河湿地公园", "{}世纪公园"),
    "单位": (
        "城阳街道办事处",
        "城阳区供电中心",
        "中国银行城阳支行",
        "城阳区税务局{}分局",
        "青岛{}电子有限公司",
        "城阳区人民医院",
    ),
}

CAMERA_MAINTAINERS = (
    "城阳区雪亮工程运维中心",
    "中国电信青岛分公司",
    "中国联通城阳分公司",
    "海信网络科技股份有限公司",
    "城阳街道综治中心",
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文辉建国红梅鹏飞宇浩然晨欣怡婷雪琳慧颖"
    "博志海峰波鑫斌宁健俊凯帆丹萍倩蕾璐佳嘉思雨梓涵子轩睿泽晓东春秋冬立新庆德福祥荣昌盛利永长成"
    "金林森松淑珍凤莲美翠云萌莹瑞琦蓉"
)
MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 157 158 159 "
    "180 181 182 183 185 186 187 188 189"
).split()

NAME_POOL_SIZE = 50_000


def person_name(rng: random.Random) -> str:
    """A surname and one or two given-name characters (two are more common)."""
    given = rng.choice(GIVEN_CHARS)
    if rng.random() < 0.7:
        given += rng.choice(GIVEN_CHARS)
    return rng.choice(SURNAMES) + given


def name_pool(seed: int) -> tuple[str, ...]:
    """Names that replicas draw from, so a 1,000-fold city is not 1,000 copies of one person."""
    rng = random.Random(f"names-{seed}")
    return tuple(person_name(rng) for _ in range(NAME_POOL_SIZE))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, exchange: str = "87") -> str:
    """A Qingdao landline, 0532 and eight digits."""
    return f"0532-{exchange}{rng.randrange(10**6):06d}"


def compound_names(rng: random.Random, count: int, stems: list[str]) -> list[str]:
    """Unique compound names; a few carry the local stem of their community (春阳小区)."""
    names: list[str] = []
    seen: set[str] = set()
    for stem in stems[:count]:
        while True:
            if rng.random() < 0.15:
                name = stem + rng.choice(("小区", "花园", "新村", "世纪公馆"))
            else:
                name = rng.choice(COMPOUND_STEMS) + rng.choice(COMPOUND_SUFFIXES)
            if name not in seen and name[1] != name[2]:  # not 海尚尚城
                break
        seen.add(name)
        names.append(name)
    return names
