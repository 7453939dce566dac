"""pandera models of the core-banking (CBS) daily files, checked as parsed text.

Each model validates one file *before* casting: every column is a polars String and an
empty field is null, so the models state the file's contract on the raw strings (formats,
code lists, check digits); casting to dates and numbers happens afterwards, on rows that
passed. Field order is file order. Personal fields carry ``metadata={"personal": True}``
so that quarantine messages never repeat their values and the loader knows what to hash.

Rules that depend on the batch (the day's village codes, the business date) cannot live
on the class: ``schema_for`` adds them to the model's schema for one batch.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

import pandera.polars as pa

from schemas import checks

EARLIEST_DATE = datetime.date(1949, 10, 1)
"""No business or birth date in these files predates the People's Republic."""

PERSONAL = {"personal": True}
"""Field metadata marking personal data (PIPL): never echoed, hashed at load."""

_VILLAGE_CODE = r"^[0-9]{12}$"
_NAME_LENGTH = {"min_value": 1, "max_value": 10}


class RegionRecord(pa.DataFrameModel):
    """CBS_REGION: full snapshot of the bank's region parameter table on the business date."""

    village_code: str = pa.Field(
        str_matches=r"^330604[0-9]{3}(00[1-9]|0[1-9][0-9]|[1-3][0-9][0-9])$",
        unique=True,
        description="Stable 12-digit village code: 330604 + town digits + village 001-399.",
    )
    village_name: str = pa.Field(description="Village or community name.")
    village_type: str = pa.Field(
        isin=["1", "2"], description="1 community (社区), 2 administrative village (行政村)."
    )
    town_code: str = pa.Field(
        str_matches=r"^330604[0-9]{3}$", description="9-digit code of the town in force, 330604xxx."
    )
    town_name: str = pa.Field(description="Name of the town in force on the business date.")
    town_type: str = pa.Field(
        isin=["1", "2", "3"], description="1 sub-district (街道), 2 town (镇), 3 township (乡)."
    )
    urban_rural_code: str = pa.Field(
        isin=["111", "112", "121", "122", "123", "210", "220"],
        description="NBS urban-rural classification code (城乡分类代码).",
    )
    effective_date: str = pa.Field(
        description="YYYYMMDD date the village's current town assignment took effect."
    )

    _names = checks.model_check(checks.not_blank, "village_name", "town_name")
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "effective_date")

    class Config:
        strict = True
        title = "CBS_REGION"
        description = "Region parameter table, one row per village, full snapshot."


class HouseholdRecord(pa.DataFrameModel):
    """CBS_HOUSEHOLD: changed rows of the registered-household table."""

    household_id: str = pa.Field(
        str_matches=r"^H[0-9]{9}$", unique=True, description="Household key: H + 9 digits."
    )
    village_code: str = pa.Field(
        str_matches=_VILLAGE_CODE, description="12-digit code of the household's village."
    )
    head_id_no: str = pa.Field(
        metadata=PERSONAL, description="GB 11643 resident ID of the household head."
    )
    head_name: str = pa.Field(
        str_length=_NAME_LENGTH, metadata=PERSONAL, description="Household head's name."
    )
    member_count: str = pa.Field(description="Number of household members, 1-20.")
    household_type: str = pa.Field(
        isin=["1", "2"], description="1 agricultural (农业户), 2 non-agricultural."
    )
    register_date: str = pa.Field(description="YYYYMMDD date the household was registered.")
    cancel_date: str = pa.Field(
        nullable=True,
        description="YYYYMMDD date the household was cancelled, not before register_date.",
    )
    update_time: str = pa.Field(description="YYYYMMDDHHMMSS time the row last changed.")

    _head_id_format, _head_id_checksum = (
        checks.model_check(rule, "head_id_no") for rule in checks.RESIDENT_ID
    )
    _head_name = checks.model_check(checks.not_blank, "head_name")
    _members = checks.model_check(checks.integer_in_range(1, 20), "member_count")
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "register_date", "cancel_date")
    _times = checks.model_check(checks.valid_timestamp_yyyymmddhhmmss, "update_time")
    _cancel = checks.model_check(checks.date_not_before("register_date"), "cancel_date")

    class Config:
        strict = True
        title = "CBS_HOUSEHOLD"
        description = "Registered households, changed rows of the business date."


class ArchiveRecord(pa.DataFrameModel):
    """CBS_ARCHIVE: changed rows of the inclusive-finance information archive (普惠信息档案)."""

    archive_id: str = pa.Field(
        str_matches=r"^A[0-9]{9}$", unique=True, description="Archive key: A + 9 digits."
    )
    household_id: str = pa.Field(
        str_matches=r"^H[0-9]{9}$", description="Household the archived person belongs to."
    )
    village_code: str = pa.Field(
        str_matches=_VILLAGE_CODE, description="12-digit code of the person's village."
    )
    id_no: str = pa.Field(metadata=PERSONAL, description="GB 11643 resident ID of the person.")
    name: str = pa.Field(str_length=_NAME_LENGTH, metadata=PERSONAL, description="Person's name.")
    mobile: str = pa.Field(
        nullable=True, metadata=PERSONAL, description="Mainland mobile number, if given."
    )
    archive_date: str = pa.Field(description="YYYYMMDD date the archive was opened.")
    archive_status: str = pa.Field(isin=["1", "0"], description="1 active, 0 revoked (注销).")
    manager_no: str = pa.Field(
        str_matches=r"^M[0-9]{5}$", description="Account manager number: M + 5 digits."
    )
    annual_income: str = pa.Field(
        str_matches=r"^[0-9]{1,16}(\.[0-9]{1,2})?$",
        description="Annual household income in yuan, non-negative, at most 2 decimals.",
    )
    update_time: str = pa.Field(description="YYYYMMDDHHMMSS time the row last changed.")

    _id_format, _id_checksum = (checks.model_check(rule, "id_no") for rule in checks.RESIDENT_ID)
    _name = checks.model_check(checks.not_blank, "name")
    _mobile = checks.model_check(checks.valid_mobile_cn, "mobile")
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "archive_date")
    _times = checks.model_check(checks.valid_timestamp_yyyymmddhhmmss, "update_time")

    class Config:
        strict = True
        title = "CBS_ARCHIVE"
        description = "Inclusive-finance archives, changed rows of the business date."


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "regions": RegionRecord,
    "households": HouseholdRecord,
    "archives": ArchiveRecord,
}
"""Entity name -> model; the entity names match the raw tables ``raw.core_banking__<entity>``."""

_DATES_IN_RANGE = {"households": ("register_date",), "archives": ("archive_date",)}


def schema_for(
    entity: str,
    *,
    business_date: datetime.date,
    village_codes: Collection[str] | None,
) -> pa.DataFrameSchema:
    """The entity's schema plus the rules that depend on this batch.

    Adds ``date_in_range`` (1949-10-01 to the business date) to the entity's event dates
    and ``known_village_code`` to ``village_code`` of households and archives.
    ``village_codes=None`` skips the village check (for regions, which define the codes).
    """
    try:
        model = MODELS[entity]
    except KeyError:
        raise ValueError(
            f"unknown core-banking entity {entity!r}; expected one of {sorted(MODELS)}"
        ) from None
    schema = model.to_schema()

    extra: dict[str, list[checks.Rule]] = {}
    for column in _DATES_IN_RANGE.get(entity, ()):
        extra.setdefault(column, []).append(checks.date_in_range(EARLIEST_DATE, business_date))
    if village_codes is not None and entity != "regions":
        extra.setdefault("village_code", []).append(checks.known_village_code(village_codes))

    return schema.update_columns(
        {
            column: {"checks": [*schema.columns[column].checks, *map(checks.to_check, rules)]}
            for column, rules in extra.items()
        }
    )
