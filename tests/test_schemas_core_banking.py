"""Core-banking pandera models, the vectorised rules behind them, and ``split_valid``.

Each model accepts a good batch and rejects each kind of bad row under the rule's name;
valid and rejected rows together account for every input row.
"""

from __future__ import annotations

import datetime
import random

import pandera.polars as pa
import polars as pl
import pytest

from puhui import identifiers
from puhui.validate import REDACTED, SchemaContractError, split_valid
from schemas import checks
from schemas.core_banking import MODELS, schema_for

BUSINESS_DATE = datetime.date(2025, 1, 1)
VILLAGES = ("330604001001", "330604001002", "330604101003")


def gb11643(first17: str) -> str:
    """A resident ID: the 17 digits plus their GB 11643 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=True))
    return first17 + "10X98765432"[total % 11]


def wrong_check_char(id_no: str) -> str:
    """The same ID with a check character that cannot be right."""
    return id_no[:17] + ("0" if id_no[17] != "0" else "1")


HEAD_ID = gb11643("33060419800615001")
PERSON_ID = gb11643("33060419920229002")  # born on a leap day


def region(**overrides: str | None) -> dict[str, str | None]:
    row = {
        "village_code": "330604001001",
        "village_name": "城南社区",
        "village_type": "1",
        "town_code": "330604001",
        "town_name": "城关街道",
        "town_type": "1",
        "urban_rural_code": "111",
        "effective_date": "20160101",
    }
    return row | overrides


def household(**overrides: str | None) -> dict[str, str | None]:
    row = {
        "household_id": "H000000001",
        "village_code": "330604001001",
        "head_id_no": HEAD_ID,
        "head_name": "张三",
        "member_count": "4",
        "household_type": "1",
        "register_date": "20160301",
        "cancel_date": None,
        "update_time": "20241231235959",
    }
    return row | overrides


def archive(**overrides: str | None) -> dict[str, str | None]:
    row = {
        "archive_id": "A000000001",
        "household_id": "H000000001",
        "village_code": "330604001001",
        "id_no": PERSON_ID,
        "name": "李小梅",
        "mobile": "13812345678",
        "archive_date": "20200515",
        "archive_status": "1",
        "manager_no": "M00012",
        "annual_income": "52000.00",
        "update_time": "20241231120000",
    }
    return row | overrides


ROW_BUILDERS = {"regions": region, "households": household, "archives": archive}
KEYS = {"regions": "village_code", "households": "household_id", "archives": "archive_id"}


def key_value(entity: str, i: int) -> str:
    if entity == "regions":
        return VILLAGES[i % len(VILLAGES)] if i < len(VILLAGES) else f"330604002{i:03d}"
    return f"{KEYS[entity][0].upper()}{i:09d}"


def frame(entity: str, rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """Rows as the parser delivers them: every column String, in the model's order."""
    columns = list(MODELS[entity].to_schema().columns)
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def good_batch(entity: str, n: int = 5) -> pl.DataFrame:
    build = ROW_BUILDERS[entity]
    return frame(entity, [build(**{KEYS[entity]: key_value(entity, i)}) for i in range(n)])


def schema(entity: str) -> pa.DataFrameSchema:
    return schema_for(entity, business_date=BUSINESS_DATE, village_codes=VILLAGES)


def with_bad_row(entity: str, column: str, value: str | None) -> pl.DataFrame:
    """A good batch whose row 2 has ``column`` set to ``value``."""
    df = good_batch(entity)
    return df.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(value, pl.String))
        .otherwise(pl.col(column))
        .alias(column)
    )


# --- the rules in schemas/checks.py -------------------------------------------------------


def rule_values(rule: checks.Rule, values: list[str | None]) -> list[bool | None]:
    """Evaluate a rule on a list of strings."""
    df = pl.DataFrame({"v": pl.Series(values, dtype=pl.String)})
    return df.select(rule(pl.col("v"))).to_series().to_list()


def test_known_resident_id_is_valid() -> None:
    assert rule_values(checks.id_format_gb11643, ["11010519491231002X"]) == [True]
    assert rule_values(checks.id_checksum_gb11643, ["11010519491231002X"]) == [True]
    assert gb11643("11010519491231002") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "format_ok", "checksum_ok"),
    [
        ("110105194912310021", True, False),  # wrong check character
        ("11010519491231002x", False, None),  # lowercase x is not GB 11643
        ("1101051949123100", False, None),  # too short: checksum not judged
        (gb11643("11010519490231002"), False, True),  # 31 February as birth date
        (None, None, None),  # nulls are left to not_nullable
    ],
)
def test_resident_id_rules(
    value: str | None, format_ok: bool | None, checksum_ok: bool | None
) -> None:
    assert rule_values(checks.id_format_gb11643, [value]) == [format_ok]
    assert rule_values(checks.id_checksum_gb11643, [value]) == [checksum_ok]


def test_luhn() -> None:
    valid = ["4111111111111111", "5500005555555559", "6011000990139424"]
    assert rule_values(checks.card_checksum_luhn, valid) == [True] * 3
    assert (
        rule_values(checks.card_checksum_luhn, ["4111111111111112", "5500005555555558"])
        == [False] * 2
    )
    assert (
        rule_values(
            checks.card_format, ["411111111111", "41111111111111111111", "4111x11111111111"]
        )
        == [False] * 3
    )
    assert rule_values(checks.card_checksum_luhn, ["4111x11111111111", None]) == [None, None]


def test_unified_social_credit_code() -> None:
    assert rule_values(checks.uscc_format_gb32100, ["91350100M000100Y43"]) == [True]
    assert rule_values(
        checks.uscc_checksum_gb32100, ["91350100M000100Y43", "91350100M000100Y42"]
    ) == [True, False]
    # I, O, S, V and Z are not in the alphabet; positions 3-8 are digits
    assert rule_values(
        checks.uscc_format_gb32100, ["91350100M000100YI3", "913501A0M000100Y43"]
    ) == [False, False]
    assert rule_values(checks.uscc_checksum_gb32100, ["91350100M000100YI3"]) == [None]


def test_vectorised_checksums_agree_with_scalar_reference() -> None:
    rng = random.Random(11643)
    ids = [gb11643("".join(rng.choices("0123456789", k=17))) for _ in range(500)]
    ids += [wrong_check_char(i) for i in ids[:200]]
    cards = ["".join(rng.choices("0123456789", k=rng.randint(13, 19))) for _ in range(500)]
    usccs = [
        "91"
        + "".join(rng.choices("0123456789", k=6))
        + "".join(rng.choices(checks.USCC_ALPHABET, k=10))
        for _ in range(500)
    ]

    assert rule_values(checks.id_checksum_gb11643, ids) == [identifiers.is_valid_id(i) for i in ids]
    assert rule_values(checks.card_checksum_luhn, cards) == [
        identifiers.is_valid_luhn(c) for c in cards
    ]
    assert rule_values(checks.uscc_checksum_gb32100, usccs) == [
        identifiers.is_valid_uscc(u) for u in usccs
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20160229", True),
        ("20150229", False),
        ("20160231", False),
        ("20161301", False),
        ("2016021", False),
        ("201602011", False),
        ("2016-02-01", False),
        (None, None),
    ],
)
def test_valid_date_yyyymmdd(value: str | None, expected: bool | None) -> None:
    assert rule_values(checks.valid_date_yyyymmdd, [value]) == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("20160229235959", True),
        ("20160229235960", False),
        ("20160229240000", False),
        ("2016022923595", False),
        ("20160230120000", False),
        (None, None),
    ],
)
def test_valid_timestamp_yyyymmddhhmmss(value: str | None, expected: bool | None) -> None:
    assert rule_values(checks.valid_timestamp_yyyymmddhhmmss, [value]) == [expected]


def test_valid_mobile_cn() -> None:
    values = [
        "13812345678",
        "19912345678",
        "12812345678",
        "1381234567",
        "138123456789",
        "+8613812345",
    ]
    assert rule_values(checks.valid_mobile_cn, values) == [True, True, False, False, False, False]


def test_integer_in_range() -> None:
    values = ["1", "20", "0", "21", "05", "-1", "2.0", " 3"]
    expected = [True, True, False, False, False, False, False, False]
    assert rule_values(checks.integer_in_range(1, 20), values) == expected


def test_date_not_before_judges_only_real_dates() -> None:
    rule = checks.date_not_before("start")
    df = pl.DataFrame(
        {
            "end": ["20200101", "20191231", "20200230", "20200101", None],
            "start": ["20200101", "20200101", "20200101", "20200230", "20200101"],
        }
    )
    assert df.select(rule(pl.col("end"))).to_series().to_list() == [True, False, None, None, None]
    assert rule.__name__ == "not_before_start"


def test_check_names_survive_subclassing() -> None:
    class Subclass(MODELS["households"]):  # type: ignore[misc, valid-type]
        pass

    for model in (Subclass, MODELS["households"]):
        names = [c.name for c in model.to_schema().columns["cancel_date"].checks]
        assert names == ["valid_date_yyyymmdd", "not_before_register_date"]


def test_date_in_range_judges_only_real_dates() -> None:
    rule = checks.date_in_range(datetime.date(1949, 10, 1), BUSINESS_DATE)
    values = ["19491001", "20250101", "19490930", "20250102", "20160231"]
    assert rule_values(rule, values) == [True, True, False, False, None]
    assert rule.__name__ == "date_in_range"


# --- the models -----------------------------------------------------------------------------


@pytest.mark.parametrize("entity", sorted(ROW_BUILDERS))
def test_model_accepts_good_batch(entity: str) -> None:
    df = good_batch(entity)
    result = split_valid(df, schema(entity))
    assert result.rejects.is_empty()
    assert result.valid.equals(df)


@pytest.mark.parametrize("entity", sorted(MODELS))
def test_models_are_strict_and_describe_every_field(entity: str) -> None:
    model_schema = MODELS[entity].to_schema()
    assert model_schema.strict is True
    assert all(column.description for column in model_schema.columns.values())
    assert all(column.dtype.type == pl.String for column in model_schema.columns.values())


def test_nullable_fields_accept_null() -> None:
    households = frame(
        "households",
        [household(cancel_date=None), household(household_id="H000000002", cancel_date="20200101")],
    )
    archives = frame("archives", [archive(mobile=None)])
    assert split_valid(households, schema("households")).rejects.is_empty()
    assert split_valid(archives, schema("archives")).rejects.is_empty()


BAD_ROWS = [
    # entity, column, bad value, rule (or rules)
    ("households", "head_id_no", wrong_check_char(HEAD_ID), "id_checksum_gb11643"),
    ("archives", "id_no", wrong_check_char(PERSON_ID), "id_checksum_gb11643"),
    ("archives", "id_no", "33060419800615001", "id_format_gb11643"),
    ("households", "village_code", "330604009009", "known_village_code"),
    ("archives", "village_code", "330604009009", "known_village_code"),
    # malformed and therefore also unknown: both rules hold, both are reported
    ("households", "village_code", "33060400100", ("str_matches", "known_village_code")),
    ("regions", "village_code", "330604001400", "str_matches"),
    ("regions", "village_code", "330604001000", "str_matches"),
    ("regions", "town_code", "330603001", "str_matches"),
    ("regions", "village_name", None, "not_nullable"),
    ("regions", "village_name", "   ", "not_blank"),
    ("regions", "village_type", "3", "isin"),
    ("regions", "urban_rural_code", "999", "isin"),
    ("regions", "effective_date", "20160231", "valid_date_yyyymmdd"),
    ("households", "household_id", "H12345", "str_matches"),
    ("households", "head_name", None, "not_nullable"),
    ("households", "head_name", "张" * 11, "str_length"),
    ("households", "member_count", "0", "integer_in_range"),
    ("households", "member_count", "21", "integer_in_range"),
    ("households", "member_count", None, "not_nullable"),
    ("households", "household_type", "9", "isin"),
    ("households", "register_date", "20160231", "valid_date_yyyymmdd"),
    ("households", "register_date", "20250102", "date_in_range"),
    ("households", "register_date", "19490930", "date_in_range"),
    ("households", "cancel_date", "20160230", "valid_date_yyyymmdd"),
    ("households", "cancel_date", "20160229", "not_before_register_date"),
    ("households", "update_time", "20241231246000", "valid_timestamp_yyyymmddhhmmss"),
    ("archives", "archive_id", None, "not_nullable"),
    ("archives", "household_id", "X000000001", "str_matches"),
    ("archives", "name", None, "not_nullable"),
    ("archives", "mobile", "12812345678", "valid_mobile_cn"),
    ("archives", "archive_date", "20160231", "valid_date_yyyymmdd"),
    ("archives", "archive_date", "20250315", "date_in_range"),
    ("archives", "archive_status", "2", "isin"),
    ("archives", "manager_no", "M0001", "str_matches"),
    ("archives", "annual_income", "-5200.00", "str_matches"),
    ("archives", "annual_income", "5200.001", "str_matches"),
    ("archives", "annual_income", "5,200.00", "str_matches"),
    ("archives", "update_time", "2024123112", "valid_timestamp_yyyymmddhhmmss"),
]


@pytest.mark.parametrize(("entity", "column", "value", "rule"), BAD_ROWS)
def test_bad_row_is_rejected_with_its_rule(
    entity: str, column: str, value: str | None, rule: str | tuple[str, ...]
) -> None:
    df = with_bad_row(entity, column, value)
    result = split_valid(df, schema(entity))

    rules = (rule,) if isinstance(rule, str) else rule
    assert result.rejects.select("row_index", "rule", "column_name").rows() == [
        (2, r, column) for r in rules
    ]
    assert result.valid.height == df.height - 1
    assert result.valid.equals(df.filter(pl.int_range(pl.len()) != 2))


def test_duplicate_key_keeps_first_occurrence() -> None:
    rows = [household(household_id=f"H00000000{i}") for i in range(4)]
    rows[3] = household(household_id="H000000001", member_count="5")  # repeats row 1
    rows.append(household(household_id="H000000001"))  # and again
    df = frame("households", rows)

    result = split_valid(df, schema("households"))

    assert result.rejects.select("row_index", "rule", "column_name").rows() == [
        (3, "unique", "household_id"),
        (4, "unique", "household_id"),
    ]
    assert result.rejects["detail"].to_list() == ["duplicate of row 1: 'H000000001'"] * 2
    assert result.valid["household_id"].to_list() == ["H000000000", "H000000001", "H000000002"]


def test_region_village_code_is_unique_in_batch() -> None:
    df = frame("regions", [region(), region(village_name="重复")])
    result = split_valid(df, schema("regions"))
    assert result.rejects.select("row_index", "rule").rows() == [(1, "unique")]


def test_row_failing_several_rules_gets_one_reject_per_rule() -> None:
    bad = archive(
        archive_id="A000000009", id_no=wrong_check_char(PERSON_ID), mobile="123", annual_income="-1"
    )
    df = frame("archives", [archive(), bad])

    result = split_valid(df, schema("archives"))

    assert sorted(result.rejects.select("rule", "column_name").rows()) == [
        ("id_checksum_gb11643", "id_no"),
        ("str_matches", "annual_income"),
        ("valid_mobile_cn", "mobile"),
    ]
    assert set(result.rejects["row_index"]) == {1}
    assert result.valid.height == 1


def test_detail_shows_the_value_but_never_personal_data() -> None:
    bad_id = wrong_check_char(HEAD_ID)
    df = frame("households", [household(head_id_no=bad_id, head_name="张" * 11, member_count="99")])

    details = dict(
        split_valid(df, schema("households")).rejects.select("column_name", "detail").rows()
    )

    assert "'99'" in details["member_count"]
    for column in ("head_id_no", "head_name"):
        assert REDACTED in details[column]
    assert not any(bad_id in d or "张" in d for d in details.values())


def test_duplicate_personal_key_is_redacted() -> None:
    schema_ = pa.DataFrameSchema(
        {"id_no": pa.Column(str, unique=True, metadata={"personal": True})}, strict=True
    )
    result = split_valid(pl.DataFrame({"id_no": [HEAD_ID, HEAD_ID]}), schema_)
    assert result.rejects.rows() == [(1, "unique", "id_no", f"duplicate of row 0: {REDACTED}")]


def test_valid_and_rejected_rows_account_for_every_row() -> None:
    rows = [archive(archive_id=f"A{i:09d}") for i in range(50)]
    rows[3]["id_no"] = wrong_check_char(PERSON_ID)
    rows[7]["archive_date"] = "20160231"
    rows[7]["mobile"] = "1"  # second failure on the same row
    rows[11]["village_code"] = "330604009009"
    rows[20]["annual_income"] = None
    rows[30]["archive_id"] = "A000000000"  # duplicate of row 0
    df = frame("archives", rows)

    result = split_valid(df, schema("archives"))
    rejected_rows = result.rejects["row_index"].unique().sort().to_list()

    assert rejected_rows == [3, 7, 11, 20, 30]
    assert result.valid.height + len(rejected_rows) == df.height
    assert result.valid.columns == df.columns
    assert result.valid.equals(df.filter(~pl.int_range(pl.len()).is_in(rejected_rows)))
    assert result.rejects.schema == pl.Schema(
        {"row_index": pl.Int64, "rule": pl.String, "column_name": pl.String, "detail": pl.String}
    )


# --- batch-dependent rules ------------------------------------------------------------------


def test_village_codes_none_skips_known_village_check() -> None:
    df = with_bad_row("households", "village_code", "330604009009")
    lenient = schema_for("households", business_date=BUSINESS_DATE, village_codes=None)
    assert split_valid(df, lenient).rejects.is_empty()


def test_empty_village_list_rejects_every_row() -> None:
    df = good_batch("archives")
    strict = schema_for("archives", business_date=BUSINESS_DATE, village_codes=[])
    assert split_valid(df, strict).rejects["rule"].to_list() == ["known_village_code"] * df.height


def test_date_range_follows_business_date() -> None:
    df = frame("archives", [archive(archive_date="20250315")])
    later = schema_for("archives", business_date=datetime.date(2025, 3, 15), village_codes=VILLAGES)
    assert split_valid(df, later).rejects.is_empty()
    assert split_valid(df, schema("archives")).rejects["rule"].to_list() == ["date_in_range"]


def test_schema_for_leaves_the_model_schema_untouched() -> None:
    schema("households")
    names = [c.name for c in MODELS["households"].to_schema().columns["village_code"].checks]
    assert names == ["str_matches"]


def test_schema_for_unknown_entity() -> None:
    with pytest.raises(ValueError, match="unknown core-banking entity"):
        schema_for("no_such_table", business_date=BUSINESS_DATE, village_codes=None)


# --- frames with the wrong shape stop the load ------------------------------------------------


def test_missing_and_unexpected_columns_raise() -> None:
    df = good_batch("archives").drop("mobile").with_columns(extra=pl.lit("x"), more=pl.lit("y"))
    with pytest.raises(SchemaContractError) as excinfo:
        split_valid(df, schema("archives"))
    message = str(excinfo.value)
    assert "missing column 'mobile'" in message
    assert "unexpected columns ['extra', 'more']" in message


def test_wrong_dtype_raises() -> None:
    df = good_batch("households").with_columns(pl.col("member_count").cast(pl.Int64))
    with pytest.raises(
        SchemaContractError, match="'member_count' has dtype Int64, expected String"
    ):
        split_valid(df, schema("households"))


def test_lazyframe_is_refused() -> None:
    with pytest.raises(TypeError, match="collected polars DataFrame"):
        split_valid(good_batch("regions").lazy(), schema("regions"))  # type: ignore[arg-type]


def test_dataframe_level_failures_have_no_column() -> None:
    schema_ = pa.DataFrameSchema(
        {"a": pa.Column(str), "b": pa.Column(str)},
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(pl.col("a") <= pl.col("b")), name="a_not_after_b"
            )
        ],
    )
    result = split_valid(pl.DataFrame({"a": ["1", "3"], "b": ["2", "2"]}), schema_)
    assert result.rejects.select("row_index", "rule", "column_name").rows() == [
        (1, "a_not_after_b", None)
    ]
    assert result.valid.rows() == [("1", "2")]


def test_failed_batch_level_check_raises() -> None:
    schema_ = pa.DataFrameSchema(
        {"a": pa.Column(str)},
        checks=[
            pa.Check(
                lambda data: data.lazyframe.collect().height == 3, name="row_count_matches_control"
            )
        ],
    )
    with pytest.raises(SchemaContractError, match="row_count_matches_control"):
        split_valid(pl.DataFrame({"a": ["1", "2"]}), schema_)
