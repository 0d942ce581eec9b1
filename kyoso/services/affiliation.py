"""Where answers come from, never who: 団体 grouped as 国 / 都道府県 /
市区町村, by region and by prefecture, and the tile map of Japan that shows
it. Shared by poll results and survey results."""

from __future__ import annotations

from dataclasses import dataclass

from kyoso.models import Organisation, OrgKind
from kyoso.orgdata import PREFECTURES, REGIONS
from kyoso.settings import get_settings

GROUP_LABELS = {"prefecture": "都道府県", "municipality": "市区町村", "national": "国"}
REGION_LABELS = (*REGIONS, "国")


@dataclass
class PrefectureCell:
    code: str
    name: str
    short: str
    region: str
    voters: int
    row: int
    col: int


def group_of(org: Organisation) -> str:
    """国, 都道府県 or 市区町村, as a key of ``GROUP_LABELS``."""
    if org.kind == OrgKind.agency:
        return "national"
    if org.kind == OrgKind.prefecture:
        return "prefecture"
    return "municipality"


def group_label(org: Organisation) -> str:
    return GROUP_LABELS[group_of(org)]


TILES: dict[str, tuple[int, int]] = {
    "01": (0, 11), "02": (1, 10), "03": (2, 11), "05": (2, 10), "04": (3, 11), "06": (3, 10),
    "07": (4, 11), "15": (4, 9), "09": (5, 10), "10": (5, 9), "08": (5, 11), "16": (5, 8),
    "17": (5, 7), "20": (6, 9), "11": (6, 10), "12": (6, 11), "18": (6, 7), "19": (7, 9),
    "13": (7, 10), "14": (7, 11), "21": (7, 8), "25": (7, 7), "26": (7, 6), "28": (7, 5),
    "31": (6, 4), "32": (6, 3), "35": (6, 2), "22": (8, 9), "23": (8, 8), "24": (8, 7),
    "29": (8, 6), "27": (8, 5), "33": (7, 4), "34": (7, 3), "40": (7, 1), "30": (9, 6),
    "37": (9, 4), "38": (9, 3), "36": (10, 4), "39": (10, 3), "44": (8, 1), "41": (7, 0),
    "42": (8, 0), "43": (9, 1), "45": (9, 2), "46": (10, 1), "47": (11, 0),
}


def tiles(voters_by_prefecture: dict[str, int]) -> list[PrefectureCell]:
    """The map's 47 cells, each with how many answered from that prefecture
    (keyed by prefecture name)."""
    return [
        PrefectureCell(code, name, name if name == "北海道" else name[:-1], region,
                       voters_by_prefecture.get(name, 0), *TILES[code])
        for code, name, region in PREFECTURES
    ]


# -- k-anonymity ---------------------------------------------------------------

ANONYMOUS_LABEL = "匿名の回答"


def threshold() -> int:
    """The fewest answers a cell of an anonymous breakdown may show (``KYOSO_ANONYMITY_THRESHOLD``)."""
    return max(1, get_settings().anonymity_threshold)


def too_few(n: int) -> bool:
    """A cell with answers, but fewer than the threshold: hidden in anonymous breakdowns."""
    return 0 < n < threshold()


def few_label(label: str) -> str:
    return f"{label}（{threshold()}人未満のため非表示）"
