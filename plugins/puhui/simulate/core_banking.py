"""Core banking T+1 unload files: GBK, ``|``-delimited, headerless, with control files.

Layout: ``<out>/<YYYYMMDD>/CBS/CBS_<TABLE>_<YYYYMMDD>.dat`` and its ``.ok`` control file
(one line: file name|business date|record count|byte size|MD5|generated at). The control
file is written only after its data file is complete, as the real unload does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puhui.simulate.county import NO_DATE, County, day_number
from puhui.simulate.regions import DISTRICT_CODE

SOURCE_DIR = "CBS"
ENCODING = "gbk"
TABLES = ("REGION", "HOUSEHOLD", "ARCHIVE")
# effective date shown for township units unchanged since the district was created
DISTRICT_CREATED = dt.date(2013, 10, 18)  # 撤市设区 (assumption: approval date)


@dataclass(frozen=True)
class WrittenFile:
    table: str
    path: Path
    records: int
    size: int
    md5: str


def data_file_name(table: str, day: dt.date) -> str:
    return f"CBS_{table}_{day:%Y%m%d}.dat"


def table_of(file_name: str) -> str:
    """``CBS_LOAN_BALANCE_20160101.dat`` -> ``LOAN_BALANCE`` (table names may hold '_')."""
    return file_name.split(".")[0].removeprefix("CBS_").rsplit("_", 1)[0]


def control_file_name(table: str, day: dt.date) -> str:
    return f"CBS_{table}_{day:%Y%m%d}.ok"


def batch_dir(out: Path, day: dt.date) -> Path:
    return out / f"{day:%Y%m%d}" / SOURCE_DIR


def ymd(n: int) -> str:
    """A day number as YYYYMMDD (empty for "never")."""
    return "" if n >= NO_DATE else dt.date.fromordinal(int(n)).strftime("%Y%m%d")


def stamp(day_no: int, seconds: int) -> str:
    """A day number plus seconds after 08:00 as YYYYMMDDHHMMSS."""
    t = dt.datetime.combine(dt.date.fromordinal(int(day_no)), dt.time(8)) + dt.timedelta(
        seconds=int(seconds)
    )
    return t.strftime("%Y%m%d%H%M%S")


def region_lines(county: County, day: dt.date) -> list[str]:
    lines = []
    for v in county.villages:
        town = v.town.version_on(day)
        effective = max(town.valid_from, DISTRICT_CREATED)
        assert town.code.startswith(DISTRICT_CODE)
        lines.append(
            "|".join(
                (
                    v.code,
                    v.name,
                    v.village_type,
                    town.code,
                    town.name,
                    town.type,
                    v.urban_rural_code,
                    f"{effective:%Y%m%d}",
                )
            )
        )
    return lines


def household_lines(county: County, day: dt.date, initial: bool) -> list[str]:
    h = county.households
    d = day_number(day)
    reg, cancel = h["register"], h["cancel"]
    rows = np.flatnonzero(reg <= d) if initial else np.flatnonzero((reg == d) | (cancel == d))
    lines = []
    for i in rows:
        cancelled = cancel[i] <= d
        changed_at = (
            stamp(cancel[i], h["t_change"][i]) if cancelled else stamp(reg[i], h["t_create"][i])
        )
        lines.append(
            "|".join(
                (
                    f"H{i + 1:09d}",
                    h["village_code"][i],
                    h["head_id_no"][i],
                    h["head_name"][i],
                    str(h["member_count"][i]),
                    str(h["household_type"][i]),
                    ymd(reg[i]),
                    ymd(cancel[i]) if cancelled else "",
                    changed_at,
                )
            )
        )
    return lines


def archive_lines(county: County, day: dt.date, initial: bool) -> list[str]:
    h = county.households
    d = day_number(day)
    arc, rev = h["archive"], h["revoke"]
    rows = np.flatnonzero(arc <= d) if initial else np.flatnonzero((arc == d) | (rev == d))
    lines = []
    for i in rows:
        revoked = rev[i] <= d
        changed_at = stamp(rev[i], h["t_change"][i]) if revoked else stamp(arc[i], h["t_create"][i])
        lines.append(
            "|".join(
                (
                    f"A{i + 1:09d}",
                    f"H{i + 1:09d}",
                    h["village_code"][i],
                    h["head_id_no"][i],
                    h["head_name"][i],
                    h["mobile"][i],
                    ymd(arc[i]),
                    "0" if revoked else "1",
                    h["manager_no"][i],
                    f"{h['annual_income'][i]:.2f}",
                    changed_at,
                )
            )
        )
    return lines


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_table(out: Path, table: str, day: dt.date, lines: list[str]) -> WrittenFile:
    """Write one data file, then its control file."""
    folder = batch_dir(out, day)
    folder.mkdir(parents=True, exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode(ENCODING)
    path = folder / data_file_name(table, day)
    _atomic_write(path, data)
    md5 = hashlib.md5(data).hexdigest()
    # unloads finish between 01:30 and about 02:30 the next morning, a stable slot per table
    slot = int(hashlib.md5(table.encode("ascii")).hexdigest(), 16) % 60
    generated = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1, 30)) + dt.timedelta(
        minutes=slot
    )
    control = "|".join(
        (
            path.name,
            f"{day:%Y%m%d}",
            str(len(lines)),
            str(len(data)),
            md5,
            f"{generated:%Y%m%d%H%M%S}",
        )
    )
    _atomic_write(folder / control_file_name(table, day), (control + "\n").encode("ascii"))
    return WrittenFile(table, path, len(lines), len(data), md5)


def write_day(world, out: Path, day: dt.date, initial: bool) -> list[WrittenFile]:
    """The household-archive files of one business date (``initial``: the first unload)."""
    county = world.county
    return [
        write_table(out, "REGION", day, region_lines(county, day)),
        write_table(out, "HOUSEHOLD", day, household_lines(county, day, initial)),
        write_table(out, "ARCHIVE", day, archive_lines(county, day, initial)),
    ]
