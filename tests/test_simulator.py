"""The synthetic Shangyu: core-banking unload files as the bank's warehouse receives them.

Small scales and short date ranges keep each test well under a second.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from puhui import identifiers
from puhui.extract.files import read_control, verify
from puhui.simulate import simulate

# File layouts (the extractor's contract, puhui.extract.core_banking.TABLES).
COLUMNS = {
    "REGION": (
        "village_code",
        "village_name",
        "village_type",
        "town_code",
        "town_name",
        "town_type",
        "urban_rural_code",
        "effective_date",
    ),
    "HOUSEHOLD": (
        "household_id",
        "village_code",
        "head_id_no",
        "head_name",
        "member_count",
        "household_type",
        "register_date",
        "cancel_date",
        "update_time",
    ),
    "ARCHIVE": (
        "archive_id",
        "household_id",
        "village_code",
        "id_no",
        "name",
        "mobile",
        "archive_date",
        "archive_status",
        "manager_no",
        "annual_income",
        "update_time",
    ),
}
TABLES = tuple(COLUMNS)
MIGRANT_PREFIXES = {"330681", "330683", "330624", "341222", "512529", "522121", "430524", "362330"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def run(
    out: Path, start: dt.date, end: dt.date | None = None, *, scale: float = 0.002, seed: int = 7
) -> Path:
    simulate(start, end or start, scale=scale, seed=seed, out=out)
    return out


def data_path(out: Path, table: str, day: dt.date) -> Path:
    return out / f"{day:%Y%m%d}" / "CBS" / f"CBS_{table}_{day:%Y%m%d}.dat"


def rows(out: Path, table: str, day: dt.date) -> list[dict[str, str]]:
    """Records of one file as dicts of strings (empty field -> '')."""
    text = data_path(out, table, day).read_bytes().decode("gbk")
    result = []
    for line in text.split("\n")[:-1] if text else []:
        fields = line.split("|")
        assert len(fields) == len(COLUMNS[table]), line
        result.append(dict(zip(COLUMNS[table], fields, strict=True)))
    return result


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def all_files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


# --- shared runs (module scope: each simulation is made once) ----------------------------

CHANGE_START, CHANGE_END = dt.date(2017, 3, 1), dt.date(2017, 3, 12)
CHANGE_SCALE = 0.05


@pytest.fixture(scope="module")
def three_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(
        tmp_path_factory.mktemp("three"), dt.date(2016, 1, 1), dt.date(2016, 1, 3), scale=0.01
    )


@pytest.fixture(scope="module")
def changes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return run(tmp_path_factory.mktemp("changes"), CHANGE_START, CHANGE_END, scale=CHANGE_SCALE)


# --- determinism ---------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path, three_days: Path) -> None:
    again = run(tmp_path / "again", dt.date(2016, 1, 1), dt.date(2016, 1, 3), scale=0.01)
    first, second = all_files(three_days), all_files(again)
    # every writer's files of 3 days, at least the 3 archive tables x (.dat + .ok)
    assert len([n for n in first if "/CBS/" in n]) >= 3 * 3 * 2
    assert "simulation.json" in first
    assert first.keys() == second.keys()
    for name in first:
        assert first[name] == second[name], name


def test_different_seed_gives_different_data(tmp_path: Path, three_days: Path) -> None:
    other = run(tmp_path / "other", dt.date(2016, 1, 1), dt.date(2016, 1, 3), scale=0.01, seed=8)
    day = dt.date(2016, 1, 1)
    for table in TABLES:
        assert (
            data_path(three_days, table, day).read_bytes()
            != data_path(other, table, day).read_bytes()
        )
    # village codes are structural (the 2016 division); names and households are drawn
    a, b = rows(three_days, "REGION", day), rows(other, "REGION", day)
    assert [r["village_code"] for r in a] == [r["village_code"] for r in b]
    assert sum(x["village_name"] != y["village_name"] for x, y in zip(a, b, strict=True)) > 400
    ids_a = {r["head_id_no"] for r in rows(three_days, "HOUSEHOLD", day)}
    ids_b = {r["head_id_no"] for r in rows(other, "HOUSEHOLD", day)}
    assert len(ids_a & ids_b) < 0.01 * len(ids_a)


def test_summary_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    summary = simulate(dt.date(2016, 2, 28), dt.date(2016, 3, 1), scale=0.002, seed=3, out=out)
    assert summary.days == 3
    assert summary.files >= 9  # 3 days x the 3 archive tables, plus other writers' files
    written = sum(len(rows(out, t, d)) for t in TABLES for d in days(summary.start, summary.end))
    assert summary.records >= written > 0
    manifest = json.loads((out / "simulation.json").read_text(encoding="utf-8"))
    assert manifest["start"] == "2016-02-28" and manifest["end"] == "2016-03-01"
    assert manifest["seed"] == 3 and manifest["scale"] == 0.002
    assert {"20160228", "20160229", "20160301", "simulation.json"} <= {
        p.name for p in out.iterdir()
    }


def test_end_before_start_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        simulate(dt.date(2016, 1, 2), dt.date(2016, 1, 1), scale=0.002, seed=1, out=tmp_path)


# --- file format -------------------------------------------------------------------------


def test_files_are_gbk_headerless_and_newline_terminated(three_days: Path) -> None:
    day = dt.date(2016, 1, 1)
    for table in TABLES:
        data = data_path(three_days, table, day).read_bytes()
        text = data.decode("gbk")  # strict: raises on anything that is not GBK
        assert text.encode("gbk") == data
        assert CHINESE.search(text), table
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # really GBK, not UTF-8
        assert b"\r" not in data and data.endswith(b"\n")
        first = text.split("\n")[0].split("|")
        assert len(first) == len(COLUMNS[table])
        assert re.fullmatch(r"330604\d{6}|[HA]\d{9}", first[0])  # a record, not a header
    names = [r["head_name"] for r in rows(three_days, "HOUSEHOLD", day)]
    assert all(2 <= len(n) <= 3 and all(CHINESE.fullmatch(c) for c in n) for n in names)


def test_every_control_file_matches_its_data_file(three_days: Path) -> None:
    checked = 0
    for ok in sorted(three_days.rglob("*.ok")):
        day = dt.datetime.strptime(ok.parent.parent.name, "%Y%m%d").date()
        control = read_control(ok)
        data_file = ok.with_suffix(".dat")
        data = verify(data_file, control, day)  # raises on any mismatch
        assert control.file_name == data_file.name
        assert control.business_date == day
        assert control.record_count == data.count(b"\n")
        assert control.byte_size == data_file.stat().st_size
        assert control.generated_at > dt.datetime.combine(day, dt.time())
        assert ok.read_bytes().endswith(b"\n") and ok.read_bytes().count(b"\n") == 1
        checked += 1
    assert checked == len(list(three_days.rglob("*.ok"))) >= 9
    assert not list(three_days.rglob("*.part"))  # no temporary files left behind


def test_ids_are_valid_with_real_birth_dates_and_matching_prefixes(tmp_path: Path) -> None:
    day = dt.date(2020, 12, 31)  # the last day carries households registered 2016-2020 too
    out = run(tmp_path, day, scale=0.01)
    numbers = [r["head_id_no"] for r in rows(out, "HOUSEHOLD", day)]
    numbers += [r["id_no"] for r in rows(out, "ARCHIVE", day)]
    migrants = 0
    for number in numbers:
        assert identifiers.is_valid_id(number), number
        born = dt.date(
            int(number[6:10]), int(number[10:12]), int(number[12:14])
        )  # raises if unreal
        assert dt.date(1900, 1, 1) < born < day
        prefix = number[:6]
        if prefix in MIGRANT_PREFIXES:
            migrants += 1
        elif born.year < 1992:
            assert prefix == "330622", number
        elif born.year <= 2013:
            assert prefix == "330682", number
        else:
            assert prefix == "330604", number
    assert len(numbers) > 4000
    assert {"330622", "330682"} <= {n[:6] for n in numbers}  # both native rules are exercised
    assert 0.03 < migrants / len(numbers) < 0.15  # assumption: about 8 %


# --- the region table and its history ----------------------------------------------------


@pytest.mark.parametrize("day", [dt.date(2016, 1, 1), dt.date(2018, 6, 30), dt.date(2020, 12, 31)])
def test_region_file_has_every_village_and_21_towns(tmp_path: Path, day: dt.date) -> None:
    regions = rows(run(tmp_path, day), "REGION", day)
    assert len(regions) == 440
    assert sum(r["village_type"] == "2" for r in regions) == 353
    assert sum(r["village_type"] == "1" for r in regions) == 87
    assert len({r["village_code"] for r in regions}) == 440
    assert len({r["town_code"] for r in regions}) == 21
    assert len({r["town_name"] for r in regions}) == 21
    assert all(re.fullmatch(r"330604\d{6}", r["village_code"]) for r in regions)
    assert all(r["town_code"].startswith("330604") for r in regions)
    # communities are named 社区, villages 村
    assert all(
        r["village_name"].endswith("社区" if r["village_type"] == "1" else "村") for r in regions
    )


@pytest.mark.parametrize(
    ("old_code", "old_name", "new_code", "new_name", "changed_on"),
    [
        ("330604100", "道墟镇", "330604004", "道墟街道", dt.date(2017, 9, 1)),
        ("330604113", "崧厦镇", "330604007", "崧厦街道", dt.date(2019, 11, 1)),
    ],
)
def test_town_becomes_subdistrict_and_villages_keep_their_codes(
    tmp_path: Path, old_code: str, old_name: str, new_code: str, new_name: str, changed_on: dt.date
) -> None:
    in_2016, before, after = dt.date(2016, 6, 1), changed_on - dt.timedelta(days=1), changed_on
    later = changed_on + dt.timedelta(days=40)
    snapshot = {
        d: {r["village_code"]: r for r in rows(run(tmp_path / str(d), d), "REGION", d)}
        for d in (in_2016, before, after, later)
    }

    old_villages = {c: r for c, r in snapshot[in_2016].items() if r["town_code"] == old_code}
    assert len(old_villages) > 20
    assert {r["town_name"] for r in old_villages.values()} == {old_name}
    assert {r["town_type"] for r in old_villages.values()} == {"2"}  # 镇
    assert all(c.startswith(old_code) for c in old_villages)
    assert {
        c for c, r in snapshot[before].items() if r["town_code"] == old_code
    } == old_villages.keys()

    for d in (after, later):
        assert not any(r["town_code"] == old_code for r in snapshot[d].values())
        moved = {c: r for c, r in snapshot[d].items() if r["town_code"] == new_code}
        assert moved.keys() == old_villages.keys()  # same villages, same 12-digit codes
        for code, row in moved.items():
            assert row["town_name"] == new_name
            assert row["town_type"] == "1"  # 街道
            assert row["effective_date"] == f"{changed_on:%Y%m%d}"
            assert row["village_name"] == old_villages[code]["village_name"]
            assert row["village_type"] == old_villages[code]["village_type"]
        assert len({r["town_code"] for r in snapshot[d].values()}) == 21
    # villages of unchanged towns keep their rows
    unchanged = [c for c, r in snapshot[in_2016].items() if r["town_code"] == "330604101"]
    assert unchanged and all(snapshot[after][c] == snapshot[in_2016][c] for c in unchanged)


# --- full first day, changed rows afterwards ---------------------------------------------


def test_first_day_carries_everything_registered_by_then(changes: Path) -> None:
    day = f"{CHANGE_START:%Y%m%d}"
    households = rows(changes, "HOUSEHOLD", CHANGE_START)
    archives = rows(changes, "ARCHIVE", CHANGE_START)
    assert len(households) > 0.85 * 290_000 * CHANGE_SCALE
    assert all(h["register_date"] <= day for h in households)
    assert all(
        h["cancel_date"] == "" or h["register_date"] < h["cancel_date"] <= day for h in households
    )
    assert any(h["cancel_date"] for h in households)  # early 2017 already has cancellations
    assert any(h["register_date"] >= "20160101" for h in households)
    assert all(a["archive_date"] <= day for a in archives)
    assert {a["archive_status"] for a in archives} == {"0", "1"}
    assert all(h["update_time"][:8] <= day for h in households + archives)
    assert len({h["household_id"] for h in households}) == len(households)


def test_later_days_carry_only_rows_with_an_event_that_day(changes: Path) -> None:
    counted = {"HOUSEHOLD": 0, "ARCHIVE": 0}
    for day in days(CHANGE_START + dt.timedelta(days=1), CHANGE_END):
        ymd = f"{day:%Y%m%d}"
        for h in rows(changes, "HOUSEHOLD", day):
            assert ymd in (h["register_date"], h["cancel_date"]), h
            assert h["update_time"][:8] == ymd
            counted["HOUSEHOLD"] += 1
        for a in rows(changes, "ARCHIVE", day):
            assert a["archive_date"] == ymd or a["archive_status"] == "0", a
            assert a["update_time"][:8] == ymd
            counted["ARCHIVE"] += 1
    assert counted["HOUSEHOLD"] > 5 and counted["ARCHIVE"] > 5
    first_day = len(rows(changes, "HOUSEHOLD", CHANGE_START))
    assert counted["HOUSEHOLD"] < 0.01 * first_day  # changes, not snapshots


def test_first_day_plus_changes_equals_a_later_first_day(tmp_path: Path, changes: Path) -> None:
    """Replaying the change files onto the first day's rows gives the snapshot of a later day."""
    snapshot = run(tmp_path, CHANGE_END, scale=CHANGE_SCALE)
    for table, key in (("HOUSEHOLD", "household_id"), ("ARCHIVE", "archive_id")):
        replayed = {r[key]: r for r in rows(changes, table, CHANGE_START)}
        for day in days(CHANGE_START + dt.timedelta(days=1), CHANGE_END):
            replayed.update({r[key]: r for r in rows(changes, table, day)})
        direct = {r[key]: r for r in rows(snapshot, table, CHANGE_END)}
        assert replayed == direct, table
        assert len(direct) > len(rows(changes, table, CHANGE_START))  # something happened


def test_archives_belong_to_their_households(three_days: Path) -> None:
    day = dt.date(2016, 1, 1)
    households = {h["household_id"]: h for h in rows(three_days, "HOUSEHOLD", day)}
    archives = rows(three_days, "ARCHIVE", day)
    for a in archives:
        h = households[a["household_id"]]
        assert a["archive_id"][1:] == a["household_id"][1:]
        assert (a["village_code"], a["id_no"], a["name"]) == (
            h["village_code"],
            h["head_id_no"],
            h["head_name"],
        )
        assert a["archive_date"] >= h["register_date"]
        assert a["mobile"] == "" or re.fullmatch(r"1[3-9]\d{9}", a["mobile"])
        assert re.fullmatch(r"\d+\.\d{2}", a["annual_income"])


# --- scale and calibration ---------------------------------------------------------------


def test_scale_changes_households_but_not_villages(tmp_path: Path) -> None:
    day = dt.date(2016, 1, 1)
    small, large = run(tmp_path / "s", day, scale=0.002), run(tmp_path / "l", day, scale=0.01)
    n_small, n_large = len(rows(small, "HOUSEHOLD", day)), len(rows(large, "HOUSEHOLD", day))
    assert 4.0 < n_large / n_small < 6.0
    assert 0.8 * 290_000 * 0.01 < n_large < 290_000 * 0.01
    assert len(rows(small, "REGION", day)) == len(rows(large, "REGION", day)) == 440


def test_first_day_archiving_share_is_plausible(three_days: Path) -> None:
    day = dt.date(2016, 1, 1)
    households = rows(three_days, "HOUSEHOLD", day)
    archived = [a for a in rows(three_days, "ARCHIVE", day) if a["archive_status"] == "1"]
    share = len(archived) / len(households)
    assert 0.5 < share < 0.8
    # communities are archived less often than villages (calibration 0.55 vs 0.70)
    village_type = {r["village_code"]: r["village_type"] for r in rows(three_days, "REGION", day)}
    archived_ids = {a["household_id"] for a in archived}

    def share_in(kind: str) -> float:
        group = [h for h in households if village_type[h["village_code"]] == kind]
        return sum(h["household_id"] in archived_ids for h in group) / len(group)

    assert share_in("1") < share_in("2")
