"""The shapes of the two demo scales: Yuecheng District (越城区) itself, and a city of many such districts."""

from dataclasses import dataclass

from crm.constants import PLAN_FIRST_YEAR, PLAN_TARGETS, FeaturedType

YEARS = (PLAN_FIRST_YEAR, PLAN_FIRST_YEAR + 1, PLAN_FIRST_YEAR + 2)

# GB/T 4754-2017 divisions that rent office space, weighted as a district's tenant mix: finance J 66–69,
# IT I 63–65, business services L 72, wholesale F 51, science M 73–75, real estate K 70, culture R 86–88,
# and a little of the rest (Shaoxing's textile firms keep head offices in town, hence C 17/28).
OFFICE_DIVISIONS: tuple[tuple[str, str, float], ...] = (
    ("72", "L", 16.0),
    ("51", "F", 13.0),
    ("65", "I", 10.0),
    ("64", "I", 6.0),
    ("63", "I", 1.5),
    ("67", "J", 6.0),
    ("68", "J", 4.5),
    ("69", "J", 3.5),
    ("66", "J", 2.5),
    ("70", "K", 5.0),
    ("74", "M", 5.0),
    ("75", "M", 5.0),
    ("73", "M", 1.5),
    ("52", "F", 3.0),
    ("58", "G", 2.0),
    ("71", "L", 1.0),
    ("50", "E", 2.0),
    ("48", "E", 1.0),
    ("86", "R", 1.0),
    ("87", "R", 1.5),
    ("88", "R", 1.5),
    ("83", "P", 1.0),
    ("84", "Q", 0.5),
    ("62", "H", 0.5),
    ("17", "C", 1.5),
    ("28", "C", 0.5),
)
SECTION_OF = {code: section for code, section, _ in OFFICE_DIVISIONS}
# Yuan of tax per m² a firm of the section pays relative to the average office tenant.
TAX_INTENSITY = {"J": 3.0, "K": 1.6, "I": 1.4, "F": 1.2, "C": 1.2, "L": 1.0, "M": 0.9, "G": 0.8, "E": 0.8}
# Rent (yuan per m² per day) a firm of the section is ready to pay, before its own variation.
RENT_BUDGET = {"J": 3.2, "K": 2.8, "I": 2.6, "L": 2.5, "F": 2.3, "M": 2.3, "R": 2.1, "C": 2.4}


@dataclass(frozen=True)
class Theme:
    """What a building is known for: its possible main industries and the featured type it can earn."""

    key: str
    weight: float
    mains: tuple[tuple[str, float], ...]  # (section letter or division, weight); empty: no main industry
    featured: str = ""
    tax_factor: float = 1.0


THEMES: tuple[Theme, ...] = (
    Theme("finance", 0.14, (("J", 3), ("67", 2), ("68", 1), ("69", 1), ("66", 1)), FeaturedType.FINANCE, 1.8),
    Theme("headquarters", 0.18, (("72", 3), ("L", 1)), FeaturedType.HEADQUARTERS, 1.3),
    Theme("it", 0.16, (("65", 3), ("I", 2), ("64", 2)), FeaturedType.MAKER, 1.1),
    Theme("trade", 0.16, (("51", 4), ("F", 1)), FeaturedType.ECOMMERCE, 1.0),
    Theme("science", 0.10, (("M", 2), ("75", 2), ("74", 1)), FeaturedType.MAKER, 0.8),
    Theme("realestate", 0.06, (("70", 1),), "", 1.2),
    Theme("culture", 0.08, (("R", 2), ("88", 1), ("86", 1)), FeaturedType.CULTURAL, 0.7),
    Theme("mixed", 0.12, (), "", 0.9),
)
THEME_BY_KEY = {theme.key: theme for theme in THEMES}
PRESTIGE_THEMES = ("finance", "headquarters", "finance", "trade", "headquarters", "it")


@dataclass(frozen=True)
class StreetSpec:
    """One street of a district: where it lies, its business circle, its roads and its share of buildings."""

    name: str
    lat: float
    lng: float
    share: float
    centrality: float  # how much prestige its buildings carry (a CBD street more)
    circle: str = ""
    roads: tuple[str, ...] = ()


@dataclass(frozen=True)
class DistrictProfile:
    """Everything that makes one planned district: streets, sizes, counts and the targets of each year."""

    code_prefix: str
    place: str  # address prefix, e.g. 绍兴市越城区
    streets: tuple[StreetSpec, ...]
    buildings_new: tuple[int, int, int]  # buildings in service by the end of year 1, new in year 2, year 3
    targets: dict[int, dict[str, float]]  # year -> indicator key -> target value
    enterprises: int
    leads: int
    promoters: int
    teams: int
    agencies: int
    units_per_building: int = 0  # 0: from the floor area; else exactly this many
    unit_area_mean: int = 240
    history_years: int = 12
    monthly_tax_share: float = 0.3
    activities: int = 0  # 0: as the leads' stages need; else exactly this many
    multi_building_enterprises: int = 15
    strict: bool = True  # the plan must meet its targets or planning fails


def plan_targets(
    *, area: float = 1.0, tax: float = 1.0, counts: float = 1.0, billion: tuple[int, int, int] | None = None
) -> dict[int, dict[str, float]]:
    """The plan's three columns, scaled for a district smaller or larger than Yuecheng."""
    targets: dict[int, dict[str, float]] = {}
    for column, year in enumerate(YEARS):
        values = {str(key): float(row[column]) for key, row in PLAN_TARGETS.items()}
        values["gross_area"] *= area
        values["leasable_area"] *= area
        values["building_tax"] *= tax
        for key in ("star_buildings", "featured_buildings"):
            values[key] = round(values[key] * counts)
        if billion is not None:
            values["billion_buildings"] = billion[column]
        targets[year] = values
    return targets


YUECHENG_STREETS = (
    StreetSpec(
        "迪荡街道",
        30.0105,
        120.6020,
        0.20,
        1.0,
        "迪荡新城商务区",
        ("迪荡湖路", "二环东路", "世纪街", "越东路"),
    ),
    StreetSpec(
        "府山街道", 30.0010, 120.5730, 0.14, 0.9, "城市广场商圈", ("解放北路", "胜利西路", "府山横街")
    ),
    StreetSpec("塔山街道", 29.9930, 120.5800, 0.14, 0.9, "解放路商圈", ("解放南路", "人民中路", "延安路")),
    StreetSpec("城南街道", 29.9760, 120.5870, 0.12, 0.7, "城南商务区", ("城南大道", "二环南路", "会稽路")),
    StreetSpec(
        "北海街道", 30.0100, 120.5640, 0.12, 0.6, "镜湖新区总部集聚区", ("环城北路", "中兴北路", "凤林西路")
    ),
    StreetSpec("稽山街道", 29.9850, 120.5980, 0.10, 0.5, "", ("稽山路", "环城东路", "东街")),
    StreetSpec("灵芝街道", 30.0300, 120.5600, 0.09, 0.4, "", ("二环北路", "灵芝路", "群贤中路")),
    StreetSpec("东湖街道", 30.0050, 120.6400, 0.09, 0.3, "东湖科创园", ("越东路", "东湖路", "329国道")),
)

# The plan's own district: its targets are the plan's year-1..3 columns, unscaled.
DISTRICT = DistrictProfile(
    code_prefix="YC",
    place="绍兴市越城区",
    streets=YUECHENG_STREETS,
    buildings_new=(84, 3, 3),
    targets=plan_targets(),
    enterprises=6000,
    leads=600,
    promoters=24,
    teams=4,
    agencies=8,
)

CITY_BLOCKS = 25
CITY_BLOCK_NAMES = tuple(f"{a}{b}" for a in "东西南北中" for b in ("城区", "湖区", "江区", "山区", "新区"))
CITY_STREET_WORDS = ("府前", "湖滨", "江南", "文昌", "新华", "人民", "解放", "城关")


def city_block(index: int) -> DistrictProfile:
    """One of the city's 25 districts: 80 buildings of 30 units, 6,000 enterprises, 800 leads."""
    block = CITY_BLOCK_NAMES[index]
    lat, lng = 29.90 + 0.04 * (index // 5), 120.45 + 0.05 * (index % 5)
    streets = tuple(
        StreetSpec(
            f"{block[:2]}{word}街道",
            lat + 0.01 * (k // 4),
            lng + 0.01 * (k % 4),
            1 / len(CITY_STREET_WORDS),
            1.0 - 0.1 * k,
            f"{block}{word}商圈" if k < 4 else "",
            (f"{word}路", f"{block[:2]}{word}大道"),
        )
        for k, word in enumerate(CITY_STREET_WORDS)
    )
    return DistrictProfile(
        code_prefix=f"C{index:02d}-",
        place=f"示范市{block}",
        streets=streets,
        buildings_new=(76, 2, 2),
        targets=plan_targets(area=0.4, tax=0.5, counts=0.9, billion=(2, 3, 3)),
        enterprises=6000,
        leads=800,
        promoters=12,
        teams=2,
        agencies=2,
        units_per_building=30,
        history_years=14,
        monthly_tax_share=0.03,
        activities=8000,
        multi_building_enterprises=2,
        strict=False,
    )
