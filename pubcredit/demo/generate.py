"""The demo city: a deterministic, vectorised generator of Zibo's subject register.

`generate_subjects(n, seed)` yields chunks of polars frames describing `n` subjects spread over
Zibo's eight districts and counties (weighted by population, 张店区 the largest):

- about 45% enterprises (91): 淄博/山东 + 字号 + 行业 + 有限公司/股份有限公司…, names distinct in
  the sense of the name registration rule (the same place + 字号 + 行业 never repeats);
- about 25% 个体工商户 (92): 张店区王记餐馆, 淄川区鑫源五金店…, the owner as legal representative;
- about 25% natural persons: names composed from Faker zh_CN's surname (weighted) and given-name
  lists, valid 18-digit 身份证号 with the district as address code, birth dates 1940–2006 and
  the sequence digit odd for men, even for women;
- the rest: 农民专业合作社 (93), 机关 (11), 事业单位 (12), 社会团体 (51), 民办非企业单位 (52) and
  village/township collectives (N2/N3).

Organisations get a valid 统一社会信用代码: category + district + a GB 11714 organisation code
(8 characters + its check character; "MA…" for codes issued after the 2015 reform) + the
GB 32100 check character. Every USCC and every 身份证号 is unique. Some enterprises carry a
former name (曾用名).

Determinism: the same (n, seed, chunk_size) gives identical frames, in any process (one numpy
Generator seeded with `seed`, drawing in a fixed order; uniqueness is decided with polars'
fixed-seed hash). Nothing depends on today's date. A different seed gives a different city.

Vectorised: Faker's word lists are read once; every column is drawn with numpy and composed
with polars string expressions or numpy byte matrices. There is no Python loop per row, except
the redraw of the few rows whose name or code collided with one already issued.

The clear 身份证号 (`id_number`) exists only in these in-memory frames; the loader encrypts it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl

DEFAULT_SEED = 20261127
CHUNK_SIZE = 100_000
# Latest establishment date in the demo city: fixed, so that output does not depend on today.
AS_OF = dt.date(2026, 10, 31)
GENERATOR_VERSION = "1"

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100; cross-checked in the tests
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_RIC_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

# ASCII code → value, for the vectorised check characters.
_USCC_VALUE = np.full(256, -1, dtype=np.int64)
for _i, _c in enumerate(USCC_CHARSET):
    _USCC_VALUE[ord(_c)] = _i
_USCC_CHARS = np.frombuffer(USCC_CHARSET.encode(), dtype=np.uint8)
_ORG_VALUE = np.full(256, -1, dtype=np.int64)
for _c in "0123456789":
    _ORG_VALUE[ord(_c)] = ord(_c) - 48
for _c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _ORG_VALUE[ord(_c)] = ord(_c) - 55
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


@dataclass(frozen=True)
class District:
    code: str
    name: str
    short: str
    population: int  # 2020 census, rounded (approximate; only used as weights)


DISTRICTS: tuple[District, ...] = (
    District("370302", "淄川区", "淄川", 733_000),
    District("370303", "张店区", "张店", 1_161_000),
    District("370304", "博山区", "博山", 406_000),
    District("370305", "临淄区", "临淄", 627_000),
    District("370306", "周村区", "周村", 394_000),
    District("370321", "桓台县", "桓台", 497_000),
    District("370322", "高青县", "高青", 356_000),
    District("370323", "沂源县", "沂源", 530_000),
)


@dataclass(frozen=True)
class Category:
    """One slice of the register: 机构类别代码 (or "" for persons), subject kind and share."""

    code: str
    kind: str
    share: float


MIX: tuple[Category, ...] = (
    Category("91", "org", 0.45),
    Category("92", "ind", 0.25),
    Category("", "person", 0.25),
    Category("93", "org", 0.02),
    Category("12", "org", 0.01),
    Category("52", "org", 0.008),
    Category("51", "org", 0.005),
    Category("11", "org", 0.002),
    Category("N2", "org", 0.004),
    Category("N3", "org", 0.001),
)

FORMER_NAME_SHARE = 0.06  # of enterprises (91)

# ----------------------------------------------------------------------------- vocabulary

# Characters and words we add to Faker's lists (Faker zh_CN has ~80 company prefixes written
# for IT firms; a city register needs more 字号 and the local industries).
_TRADE_CHARS_EXTRA = (
    "鑫源宏达恒泰瑞祥隆盛昌顺丰兴华齐鲁金鼎润诚信德嘉和裕康宝利通远博众联新亿佳豪晟铭煜辰翔"
    "骏凯峰岳海鸿运同仁福祥云图伟业正大永安光明宇宙长城中天东方阳光绿洲蓝天凯旋顺达汇丰广"
    "厚道诺万众维力新星旭日锦程银河朝晖春秋弘毅广源聚泉奥林华夏九州"
)
_TRADE_EXCLUDE = set("公司区电子计算机脑软件网息字盒罳悌樊襄戴黄毕数点图名刻次木村球算特石地")
_INDUSTRIES_EXTRA = (
    "陶瓷 琉璃 化工 精细化工 医药 制药 机械 机械制造 建材 纺织 服装 汽车配件 新材料 耐火材料 电气 "
    "电力设备 环保科技 食品 商贸 贸易 物流 运输 建筑工程 建筑安装 房地产开发 农业科技 餐饮管理 广告 "
    "电子商务 装饰工程 塑料制品 石油化工 不锈钢 轴承 泵业 铝业 玻璃 包装 印刷 家具 酒店管理 物业管理 "
    "劳务 人力资源 文化传媒 教育咨询 信息技术 软件 新能源 热电 水务 生物科技 钢铁 铸造 橡胶 管道 "
    "阀门 仪器仪表 工贸 实业 置业 投资 供应链管理 机电设备 五金 农副产品 粮油 果蔬 畜牧 饲料 化肥"
).split()
_FORMS = ("有限公司", "有限责任公司", "股份有限公司", "集团有限公司")
_FORM_WEIGHTS = (0.80, 0.12, 0.06, 0.02)
_SHOPS = (
    "餐馆 饭店 小吃部 烧烤店 面馆 水饺馆 包子铺 快餐店 煎饼铺 馒头房 熟食店 豆腐坊 超市 便利店 百货店 "
    "副食店 五金店 五金建材店 日用品店 水果店 蔬菜店 粮油店 烟酒店 茶叶店 花店 文具店 服装店 鞋店 "
    "手机店 家电维修部 修车铺 汽车修理厂 洗车行 理发店 美发店 美容店 干洗店 农资店 装饰材料经营部 "
    "门窗加工部 家具店 窗帘店 眼镜店 养殖场 种植园 废品回收站 打印部 照相馆 调料店 水站 家政服务部 "
    "搬家服务部 广告部 电动车店 自行车修理部 酱菜店 布艺店"
).split()
_COOP_PRODUCTS = (
    "苹果种植 蔬菜种植 桃种植 樱桃种植 葡萄种植 粮食种植 食用菌种植 中药材种植 花卉苗木 黑牛养殖 "
    "生猪养殖 肉羊养殖 畜禽养殖 水产养殖 蜂业 农机服务 土地股份 植保服务 果品 小米种植"
).split()
_PUBLIC_INSTITUTIONS = (
    "小学 中学 中心小学 幼儿园 卫生院 社区卫生服务中心 农业技术推广站 文化站 水利站 "
    "畜牧兽医站 敬老院 国土资源所 财政所 便民服务中心"
).split()
_PRIVATE_NONPROFITS = (
    "幼儿园 培训学校 艺术培训学校 职业培训学校 养老服务中心 康复中心 社会工作服务中心 "
    "书画院 体育俱乐部 托育中心"
).split()
_ASSOCIATION_FORMS = ("协会", "行业协会", "商会")
_AGENCY_FORMS = ("镇人民政府", "街道办事处")
_PLACE_CHARS = (
    "东西南北中上下前后大小马王张李刘杨赵孙石山河湖泉峪岭坡庄店集桥沟岗家寨台城关口堡营屯"
    "龙凤金银双三五七青白红黄柳杏桃梨花果松柏槐杨泉源清平安宁和兴旺太福寿昆仑罗洪田湾"
)
_VILLAGE_ENDINGS = ("家庄", "家村", "家峪", "家坡", "家店", "家屯", "庄", "村", "峪", "营")
_MALE_CHARS_EXTRA = "志国华明建军文斌强伟磊刚勇涛海波鹏辉宇浩俊杰峰亮新春振兴德永庆福林平东晓凯立广"
_FEMALE_CHARS_EXTRA = "秀丽芳娟敏静艳玲燕红霞梅兰英华慧婷雪琳颖洁萍莉月凤春晓丹倩爱美"


def _cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= c <= "\u9fff" for c in text)


@dataclass(frozen=True)
class Vocabulary:
    surnames: pl.Series
    surname_p: np.ndarray
    male_names: pl.Series
    female_names: pl.Series
    male_chars: pl.Series
    female_chars: pl.Series
    trade_chars: pl.Series
    trade_words: pl.Series
    industries: pl.Series
    place_chars: pl.Series


@functools.cache
def vocabulary() -> Vocabulary:
    """Word lists, taken once from Faker zh_CN's providers and extended with local words."""
    # Faker is heavy and only the demo generator needs it, once (the result is cached).
    from faker.providers.company.zh_CN import Provider as Company

    # Imported here: Faker is heavy; only the demo generator needs it.
    from faker.providers.person.zh_CN import Provider as Person

    surnames = list(Person.last_names)
    weights = np.array(list(Person.last_names.values()), dtype=np.float64)
    male = [n for n in Person.first_names_male if _cjk(n)]
    female = [n for n in Person.first_names_female if _cjk(n)]

    def chars(names, extra):
        return sorted(set("".join(names)) | set(extra))

    prefixes = [p for p in Company.company_prefixes if _cjk(p)]
    trade_words = sorted({p for p in prefixes if len(p) == 2 and not (set(p) & _TRADE_EXCLUDE)})
    trade_chars = sorted(
        (set("".join(prefixes)) - _TRADE_EXCLUDE) | set(_TRADE_CHARS_EXTRA) | set("".join(male))
    )
    trade_chars = [c for c in trade_chars if _cjk(c)]
    faker_industries = [s.removesuffix("有限公司") for s in Company.company_suffixes]
    industries = list(dict.fromkeys(faker_industries + _INDUSTRIES_EXTRA))
    return Vocabulary(
        surnames=pl.Series(surnames, dtype=pl.String),
        surname_p=weights / weights.sum(),
        male_names=pl.Series(male, dtype=pl.String),
        female_names=pl.Series(female, dtype=pl.String),
        male_chars=pl.Series(chars(male, _MALE_CHARS_EXTRA), dtype=pl.String),
        female_chars=pl.Series(chars(female, _FEMALE_CHARS_EXTRA), dtype=pl.String),
        trade_chars=pl.Series(trade_chars, dtype=pl.String),
        trade_words=pl.Series(trade_words, dtype=pl.String),
        industries=pl.Series(industries, dtype=pl.String),
        place_chars=pl.Series(sorted(set(_PLACE_CHARS)), dtype=pl.String),
    )


# ----------------------------------------------------------------------------- helpers

_DISTRICT_P = np.array([d.population for d in DISTRICTS], dtype=np.float64)
_DISTRICT_P /= _DISTRICT_P.sum()
_DISTRICT_CODES = pl.Series([d.code for d in DISTRICTS], dtype=pl.String)
_DISTRICT_NAMES = pl.Series([d.name for d in DISTRICTS], dtype=pl.String)
_DISTRICT_SHORT = pl.Series([d.short for d in DISTRICTS], dtype=pl.String)
_DISTRICT_DIGITS = np.frombuffer("".join(d.code for d in DISTRICTS).encode(), np.uint8).reshape(
    len(DISTRICTS), 6
)


def _series(values) -> pl.Series:
    return values if isinstance(values, pl.Series) else pl.Series(values, dtype=pl.String)


def _pick(rng: np.random.Generator, words, n: int, p=None) -> pl.Series:
    words = _series(list(words) if isinstance(words, tuple | list) else words)
    if p is None:
        idx = rng.integers(0, len(words), n)
    else:
        idx = rng.choice(len(words), size=n, p=np.asarray(p, dtype=np.float64) / np.sum(p))
    return words.gather(idx)


def _cat(*parts) -> pl.Series:
    """Row-wise concatenation of string Series and literals."""
    frame = pl.DataFrame(
        {f"p{i}": p for i, p in enumerate(parts) if isinstance(p, pl.Series)},
    )
    exprs = [
        pl.col(f"p{i}") if isinstance(p, pl.Series) else pl.lit(p) for i, p in enumerate(parts)
    ]
    return frame.select(pl.concat_str(exprs).alias("s")).to_series()


def _where(mask: np.ndarray, a: pl.Series, b: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"m": mask, "a": a, "b": b})
    return frame.select(pl.when(pl.col("m")).then(pl.col("a")).otherwise(pl.col("b"))).to_series()


def _strings(mat: np.ndarray) -> pl.Series:
    """(n, k) uint8 ASCII matrix → Series of k-character strings."""
    n, k = mat.shape
    if n == 0:
        return pl.Series([], dtype=pl.String)
    return pl.Series(np.ascontiguousarray(mat).view(f"S{k}").ravel().astype(f"U{k}"))


def _digit_matrix(values: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers → (n, width) zero-padded ASCII digits."""
    values = values.astype(np.int64)
    out = np.empty((len(values), width), dtype=np.uint8)
    for col in range(width - 1, -1, -1):
        out[:, col] = _DIGITS[values % 10]
        values = values // 10
    return out


def orgcode_check_chars(first8: np.ndarray) -> np.ndarray:
    """GB 11714 check characters for an (n, 8) ASCII matrix of organisation-code bodies."""
    values = _ORG_VALUE[first8]
    if (values < 0).any():
        raise ValueError("organisation code bodies hold only digits and capital letters")
    check = 11 - (values @ _ORG_WEIGHTS) % 11
    out = (48 + check).astype(np.uint8)  # 1..9
    out[check == 10] = ord("X")
    out[check == 11] = ord("0")
    return out


def uscc_check_chars(first17: np.ndarray) -> np.ndarray:
    """GB 32100 check characters for an (n, 17) ASCII matrix."""
    values = _USCC_VALUE[first17]
    if (values < 0).any():
        raise ValueError("character outside the USCC character set")
    return _USCC_CHARS[(31 - (values @ _USCC_WEIGHTS) % 31) % 31]


def ric_check_chars(first17: np.ndarray) -> np.ndarray:
    """GB 11643 check characters for an (n, 17) ASCII digit matrix."""
    return _RIC_CHECK[((first17.astype(np.int64) - 48) @ _RIC_WEIGHTS) % 11]


def _days(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days.astype("datetime64[D]"))


class _Issued:
    """Keys already handed out (names, organisation codes, ID numbers), as a sorted array of
    64-bit polars hashes: 8 bytes per subject, so a million subjects cost 8 MB."""

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.uint64)

    def fresh(self, hashes: np.ndarray) -> np.ndarray:
        """Mask of hashes neither issued before nor repeated earlier in `hashes`."""
        first = pl.Series(hashes).is_first_distinct().to_numpy()
        if len(self._sorted) == 0:
            return first
        pos = np.searchsorted(self._sorted, hashes)
        pos[pos == len(self._sorted)] = 0
        return first & (self._sorted[pos] != hashes)

    def add(self, hashes: np.ndarray) -> None:
        """Add hashes that `fresh` accepted (distinct and new): a merge, linear in the size."""
        new = np.sort(hashes)
        self._sorted = np.insert(self._sorted, np.searchsorted(self._sorted, new), new)


def _hash(keys: pl.Series) -> np.ndarray:
    return keys.hash(seed=0).to_numpy().copy()


def _draw_unique(
    rng: np.random.Generator,
    issued: _Issued,
    n: int,
    draw: Callable[[np.random.Generator, np.ndarray, int], tuple[pl.Series, pl.Series]],
    what: str,
    tries: int = 40,
) -> pl.Series:
    """Draw n values with `draw(rng, rows, attempt) -> (values, keys)`, redrawing the rows whose
    key was issued before, until every key is new. `attempt` lets a draw widen its space."""
    rows = np.arange(n)
    values, keys = draw(rng, rows, 0)
    hashes = _hash(keys)
    for attempt in range(1, tries + 1):
        ok = issued.fresh(hashes)
        if ok.all():
            issued.add(hashes)
            return values
        bad = np.flatnonzero(~ok)
        new_values, new_keys = draw(rng, bad, attempt)
        values = values.scatter(bad, new_values)
        hashes[bad] = _hash(new_keys)
    raise RuntimeError(f"could not draw {n} unique {what}")


# ----------------------------------------------------------------------------- person names


def _given_names(rng: np.random.Generator, male: np.ndarray) -> pl.Series:
    v = vocabulary()
    n = len(male)
    listed = _where(male, _pick(rng, v.male_names, n), _pick(rng, v.female_names, n))
    one = _where(male, _pick(rng, v.male_chars, n), _pick(rng, v.female_chars, n))
    two = _where(male, _pick(rng, v.male_chars, n), _pick(rng, v.female_chars, n))
    composed = _where(rng.random(n) < 0.25, one, _cat(one, two))
    return _where(rng.random(n) < 0.4, listed, composed)


def _person_names(rng: np.random.Generator, n: int) -> tuple[pl.Series, pl.Series, np.ndarray]:
    """(full names, surnames, male mask)."""
    v = vocabulary()
    male = rng.random(n) < 0.5
    surnames = _pick(rng, v.surnames, n, v.surname_p)
    return _cat(surnames, _given_names(rng, male)), surnames, male


# ----------------------------------------------------------------------------- identifiers


def _uscc(
    rng: np.random.Generator,
    issued_codes: _Issued,
    category: str,
    district: np.ndarray,
    established: np.ndarray,
) -> pl.Series:
    """Unique USCCs: category + district code + GB 11714 body (+ its check) + GB 32100 check."""
    n = len(district)
    reform = _days(dt.date(2015, 10, 1))
    new_style = established >= reform

    bodies = np.empty((n, 8), dtype=np.uint8)

    def draw(rng, rows, attempt):
        m = len(rows)
        body = _DIGITS[rng.integers(0, 10, (m, 8))]
        # Before the reform: 8-digit organisation codes; after: "MA" + 6 characters.
        ns = new_style[rows]
        body[ns, 0] = ord("M")
        body[ns, 1] = ord("A")
        body[ns, 2:] = _USCC_CHARS[rng.integers(0, len(_USCC_CHARS), (int(ns.sum()), 6))]
        bodies[rows] = body
        keys = _strings(body)
        return keys, keys

    # A body (organisation code) is issued once, whatever the registering district.
    _draw_unique(rng, issued_codes, n, draw, "organisation codes")
    first17 = np.empty((n, 17), dtype=np.uint8)
    first17[:, 0:2] = np.frombuffer(category.encode("ascii"), dtype=np.uint8)
    first17[:, 2:8] = _DISTRICT_DIGITS[district]
    first17[:, 8:16] = bodies
    if n:
        first17[:, 16] = orgcode_check_chars(bodies)
    full = np.empty((n, 18), dtype=np.uint8)
    full[:, :17] = first17
    if n:
        full[:, 17] = uscc_check_chars(first17)
    return _strings(full)


# Birth-year weights by decade start: a rough age pyramid for an ageing Shandong city.
_BIRTH_YEARS = np.arange(1940, 2007)
_BIRTH_P = np.select(
    [_BIRTH_YEARS < 1950, _BIRTH_YEARS < 1960, _BIRTH_YEARS < 1976, _BIRTH_YEARS < 1991],
    [0.35, 0.8, 1.25, 1.0],
    default=0.7,
)
_BIRTH_P = _BIRTH_P / _BIRTH_P.sum()


def _birth_days(rng: np.random.Generator, n: int) -> np.ndarray:
    years = rng.choice(_BIRTH_YEARS, size=n, p=_BIRTH_P)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    end = (years - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return start + (rng.random(n) * (end - start)).astype(np.int64)


def _ric(
    rng: np.random.Generator,
    issued_ids: _Issued,
    district: np.ndarray,
    birth: np.ndarray,
    male: np.ndarray,
) -> pl.Series:
    """Unique 身份证号: district address code + birth date + sequence (odd = male) + check."""
    n = len(district)
    first17 = np.empty((n, 17), dtype=np.uint8)
    first17[:, :6] = _DISTRICT_DIGITS[district]
    ymd = np.datetime_as_string(birth.astype("datetime64[D]"), unit="D")  # YYYY-MM-DD
    if n:
        raw = np.frombuffer("".join(ymd.tolist()).encode("ascii"), dtype=np.uint8).reshape(n, 10)
        first17[:, 6:10] = raw[:, 0:4]
        first17[:, 10:12] = raw[:, 5:7]
        first17[:, 12:14] = raw[:, 8:10]

    def draw(rng, rows, attempt):
        k = rng.integers(1, 500, len(rows))  # 001–999, never 000
        seq = np.where(male[rows], 2 * k - 1, 2 * k)  # odd for men, even for women
        first17[rows, 14:17] = _digit_matrix(seq, 3)
        keys = _strings(first17[rows])
        return keys, keys

    _draw_unique(rng, issued_ids, n, draw, "ID numbers")
    full = np.empty((n, 18), dtype=np.uint8)
    full[:, :17] = first17
    if n:
        full[:, 17] = ric_check_chars(first17)
    return _strings(full)


# ----------------------------------------------------------------------------- names by category


def _established(rng: np.random.Generator, n: int, earliest: dt.date, scale_years: float):
    """Dates skewed towards recent years (exponential age), never before `earliest`."""
    age = rng.exponential(scale_years * 365.25, n).astype(np.int64)
    days = _days(AS_OF) - age
    lo = _days(earliest)
    wrapped = lo + (rng.random(n) * (_days(AS_OF) - lo)).astype(np.int64)
    return np.where(days < lo, wrapped, days)


def _pair(rng: np.random.Generator, chars: pl.Series, n: int) -> pl.Series:
    """Two different characters from `chars`."""
    k = len(chars)
    first = rng.integers(0, k, n)
    second = (first + rng.integers(1, k, n)) % k
    return _cat(chars.gather(first), chars.gather(second))


def _trade_name(rng: np.random.Generator, n: int, attempt: int = 0) -> pl.Series:
    """字号: two characters, or one of Faker's two-character company words; longer on retries."""
    v = vocabulary()
    two = _pair(rng, v.trade_chars, n)
    name = _where(rng.random(n) < 0.15, _pick(rng, v.trade_words, n), two)
    if attempt >= 3:
        name = _where(rng.random(n) < 0.5, _cat(name, _pick(rng, v.trade_chars, n)), name)
    return name


def _place(rng: np.random.Generator, n: int) -> pl.Series:
    return _pair(rng, vocabulary().place_chars, n)


@dataclass
class _Rows:
    """The per-row context shared by the name drawers of one category."""

    district: np.ndarray
    owner_surname: pl.Series | None = None
    owner_name: pl.Series | None = None


def _enterprise_names(rng, ctx: _Rows, rows: np.ndarray, attempt: int):
    m = len(rows)
    v = vocabulary()
    r = rng.random(m)
    prefix = _where(
        r < 0.80,
        pl.Series(["淄博"] * m),
        _where(
            r < 0.92,
            pl.Series(["山东"] * m),
            _cat("淄博", _DISTRICT_SHORT.gather(ctx.district[rows])),
        ),
    )
    core = _cat(prefix, _trade_name(rng, m, attempt), _pick(rng, v.industries, m))
    # The registration rule: place + 字号 + 行业 is unique whatever the legal form.
    return _cat(core, _pick(rng, _FORMS, m, _FORM_WEIGHTS)), core


def _business_names(rng, ctx: _Rows, rows: np.ndarray, attempt: int):
    m = len(rows)
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    shop = _pick(rng, _SHOPS, m)
    r = rng.random(m) if attempt < 5 else np.ones(m)
    by_surname = _cat(district, ctx.owner_surname.gather(rows), "记", shop)
    by_owner = _cat(district, ctx.owner_name.gather(rows), shop)
    by_trade = _cat(district, _trade_name(rng, m, attempt), shop)
    if attempt >= 8:
        by_trade = _cat(district, _place(rng, m), _trade_name(rng, m, 3), shop)
    name = _where(r < 0.3, by_surname, _where(r < 0.4, by_owner, by_trade))
    return name, name


def _coop_names(rng, ctx, rows, attempt):
    m = len(rows)
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    middle = _where(rng.random(m) < 0.5, _place(rng, m), _trade_name(rng, m, attempt))
    name = _cat(district, middle, _pick(rng, _COOP_PRODUCTS, m), "专业合作社")
    name = _where(
        rng.random(m) < 0.3, _cat(name.str.replace("专业合作社$", ""), "农民专业合作社"), name
    )
    key = name.str.replace("农民专业合作社$", "专业合作社")
    return name, key


def _institution_names(rng, ctx, rows, attempt):
    m = len(rows)
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    place = _place(rng, m) if attempt < 5 else _cat(_place(rng, m), _place(rng, m))
    name = _cat(district, place, _pick(rng, _PUBLIC_INSTITUTIONS, m))
    return name, name


def _nonprofit_names(rng, ctx, rows, attempt):
    m = len(rows)
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    name = _cat(district, _trade_name(rng, m, attempt), _pick(rng, _PRIVATE_NONPROFITS, m))
    return name, name


def _association_names(rng, ctx, rows, attempt):
    m = len(rows)
    v = vocabulary()
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    industry = _pick(rng, v.industries, m)
    form = _pick(rng, _ASSOCIATION_FORMS, m)
    plain = _cat(district, industry, form)
    placed = _cat(district, _place(rng, m), industry, form)
    name = _where(rng.random(m) < (0.3 if attempt == 0 else 0.0), plain, placed)
    return name, name


def _agency_names(rng, ctx, rows, attempt):
    m = len(rows)
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    place = _place(rng, m) if attempt < 5 else _cat(_place(rng, m), _pick(rng, _PLACE_CHARS, m))
    name = _cat(district, place, _pick(rng, _AGENCY_FORMS, m))
    return name, name


def _village_names(rng, ctx, rows, attempt):
    m = len(rows)
    v = vocabulary()
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    town = _place(rng, m)
    village = _where(
        rng.random(m) < 0.6,
        _cat(_pick(rng, v.surnames[:100], m), _pick(rng, _VILLAGE_ENDINGS, m)),
        _cat(_place(rng, m), "村"),
    )
    name = _cat(district, town, "镇", village, "股份经济合作社")
    return name, name


def _township_names(rng, ctx, rows, attempt):
    m = len(rows)
    district = _DISTRICT_NAMES.gather(ctx.district[rows])
    town = _place(rng, m) if attempt < 5 else _cat(_place(rng, m), _pick(rng, _PLACE_CHARS, m))
    name = _cat(district, town, "镇经济联合总社")
    return name, name


_NAMERS = {
    "91": _enterprise_names,
    "92": _business_names,
    "93": _coop_names,
    "12": _institution_names,
    "52": _nonprofit_names,
    "51": _association_names,
    "11": _agency_names,
    "N2": _village_names,
    "N3": _township_names,
}

# (earliest establishment date, exponential age scale in years) per category.
_ESTABLISHED = {
    "91": (dt.date(1985, 1, 1), 8.0),
    "92": (dt.date(1995, 1, 1), 6.0),
    "93": (dt.date(2007, 7, 1), 6.0),
    "12": (dt.date(1980, 1, 1), 25.0),
    "52": (dt.date(1998, 1, 1), 8.0),
    "51": (dt.date(1990, 1, 1), 12.0),
    "11": (dt.date(1980, 1, 1), 30.0),
    "N2": (dt.date(2017, 1, 1), 3.0),
    "N3": (dt.date(2017, 1, 1), 3.0),
}

# ----------------------------------------------------------------------------- chunks

SUBJECT_SCHEMA = {
    "kind": pl.String,
    "org_category": pl.String,
    "name": pl.String,
    "uscc": pl.String,
    "id_number": pl.String,
    "id_type": pl.String,
    "region": pl.String,
    "legal_representative": pl.String,
    "established_on": pl.Date,
}
FORMER_NAME_SCHEMA = {"row": pl.Int64, "name": pl.String, "used_until": pl.Date}


@dataclass(frozen=True)
class DemoChunk:
    """`subjects`: one row per subject (SUBJECT_SCHEMA; `id_number` is the clear 身份证号 of a
    natural person, null otherwise). `former_names`: `row` is the position in `subjects`."""

    index: int
    subjects: pl.DataFrame
    former_names: pl.DataFrame


class DemoCity:
    """The generator state: one random stream and the keys issued so far."""

    def __init__(self, seed: int = DEFAULT_SEED, chunk_size: int = CHUNK_SIZE) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self.seed = seed
        self.chunk_size = chunk_size
        self.rng = np.random.default_rng(seed)
        self._names = _Issued()
        self._codes = _Issued()
        self._ids = _Issued()

    def chunks(self, n: int) -> Iterator[DemoChunk]:
        done = 0
        index = 0
        while done < n:
            m = min(self.chunk_size, n - done)
            yield self._chunk(index, m)
            done += m
            index += 1

    def _chunk(self, index: int, m: int) -> DemoChunk:
        rng = self.rng
        shares = np.array([c.share for c in MIX])
        category = rng.choice(len(MIX), size=m, p=shares / shares.sum())
        district = rng.choice(len(DISTRICTS), size=m, p=_DISTRICT_P)
        parts = []
        former = []
        for ci, cat in enumerate(MIX):
            rows = np.flatnonzero(category == ci)
            if len(rows) == 0:
                continue
            if cat.kind == "person":
                frame = self._persons(district[rows])
            else:
                frame, fn = self._organisations(cat, district[rows])
                if fn is not None:
                    former.append(fn.with_columns(pl.Series("row", rows).gather(fn["row"])))
            parts.append(frame.with_columns(pl.Series("pos", rows)))
        subjects = pl.concat(parts).sort("pos").drop("pos")
        if former:
            former_names = pl.concat(former).select(list(FORMER_NAME_SCHEMA)).sort("row")
        else:
            former_names = pl.DataFrame(schema=FORMER_NAME_SCHEMA)
        return DemoChunk(index, subjects.select(list(SUBJECT_SCHEMA)), former_names)

    def _persons(self, district: np.ndarray) -> pl.DataFrame:
        n = len(district)
        names, _surnames, male = _person_names(self.rng, n)
        birth = _birth_days(self.rng, n)
        ids = _ric(self.rng, self._ids, district, birth, male)
        return pl.DataFrame(
            {
                "kind": pl.Series(["person"] * n, dtype=pl.String),
                "org_category": pl.Series([""] * n, dtype=pl.String),
                "name": names,
                "uscc": pl.Series([None] * n, dtype=pl.String),
                "id_number": ids,
                "id_type": pl.Series(["身份证"] * n, dtype=pl.String),
                "region": _DISTRICT_CODES.gather(district),
                "legal_representative": pl.Series([""] * n, dtype=pl.String),
                "established_on": pl.Series([None] * n, dtype=pl.Date),
            }
        )

    def _organisations(self, cat: Category, district: np.ndarray):
        rng = self.rng
        n = len(district)
        owners, owner_surnames, _male = _person_names(rng, n)
        ctx = _Rows(district=district, owner_surname=owner_surnames, owner_name=owners)
        namer = _NAMERS[cat.code]
        names = _draw_unique(
            rng, self._names, n, lambda r, rows, a: namer(r, ctx, rows, a), f"{cat.code} names"
        )
        earliest, scale = _ESTABLISHED[cat.code]
        established = _established(rng, n, earliest, scale)
        uscc = _uscc(rng, self._codes, cat.code, district, established)
        frame = pl.DataFrame(
            {
                "kind": pl.Series([cat.kind] * n, dtype=pl.String),
                "org_category": pl.Series([cat.code] * n, dtype=pl.String),
                "name": names,
                "uscc": uscc,
                "id_number": pl.Series([None] * n, dtype=pl.String),
                "id_type": pl.Series([""] * n, dtype=pl.String),
                "region": _DISTRICT_CODES.gather(district),
                "legal_representative": owners,
                "established_on": _dates(established),
            }
        )
        former = None
        if cat.code == "91":
            former = self._former_names(ctx, names, established)
        return frame, former

    def _former_names(self, ctx: _Rows, names: pl.Series, established: np.ndarray):
        """A former name for a share of enterprises: another 字号 (a renamed company) or the same
        name with another legal form (a conversion), used until a date after establishment."""
        rng = self.rng
        n = len(names)
        # Only a company that has existed for a while can have been renamed.
        eligible = established < _days(AS_OF) - 30
        rows = np.flatnonzero((rng.random(n) < FORMER_NAME_SHARE) & eligible)
        m = len(rows)
        if m == 0:
            return None
        renamed, _core = _enterprise_names(rng, ctx, rows, 0)
        current = names.gather(rows)
        converted = _cat(
            current.str.replace("(股份有限公司|集团有限公司|有限责任公司|有限公司)$", ""),
            "有限责任公司",
        )
        former = _where(rng.random(m) < 0.7, renamed, converted)
        start = established[rows]
        until = (
            start + 1 + (rng.random(m) * np.maximum(_days(AS_OF) - start - 1, 1)).astype(np.int64)
        )
        frame = pl.DataFrame(
            {"row": np.arange(n)[rows], "name": former, "used_until": _dates(until)}
        )
        return frame.filter(pl.col("name") != current)


def generate_subjects(
    n: int, seed: int = DEFAULT_SEED, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[DemoChunk]:
    """Yield the demo city's `n` subjects in chunks of at most `chunk_size` rows."""
    if n < 0:
        raise ValueError("n must be non-negative")
    return DemoCity(seed, chunk_size).chunks(n)
