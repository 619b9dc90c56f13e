"""The ``regions`` input: names of the province-level region codes (GB/T 2260) that subscribers are
registered in, so that reports and the dashboard say "Hunan" rather than ``430000``."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from popflow.synth.csv_files import write_csv

PROVINCES = {
    "110000": "Beijing", "120000": "Tianjin", "130000": "Hebei", "140000": "Shanxi", "150000": "Inner Mongolia",
    "210000": "Liaoning", "220000": "Jilin", "230000": "Heilongjiang", "310000": "Shanghai", "320000": "Jiangsu",
    "330000": "Zhejiang", "340000": "Anhui", "350000": "Fujian", "360000": "Jiangxi", "370000": "Shandong",
    "410000": "Henan", "420000": "Hubei", "430000": "Hunan", "440000": "Guangdong", "450000": "Guangxi",
    "460000": "Hainan", "500000": "Chongqing", "510000": "Sichuan", "520000": "Guizhou", "530000": "Yunnan",
    "540000": "Tibet", "610000": "Shaanxi", "620000": "Gansu", "630000": "Qinghai", "640000": "Ningxia",
    "650000": "Xinjiang",
}


def write_regions(path: Path) -> None:
    """Write ``code,name`` for every province-level region."""
    write_csv(pa.table({"code": list(PROVINCES), "name": list(PROVINCES.values())}), path)
