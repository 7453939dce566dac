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
from collections.abc import Collection, Mapping

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

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


# --- rules used by the tables below ------------------------------------------------------

_AMOUNT = r"^[0-9]{1,16}\.[0-9]{2}$"
_OUTLET_CODE = r"^([0-9]{4}|(YZ|SQ|ZZ)[0-9]{4})$"
_BRANCH_CODE = r"^(00(0[1-9]|1[0-9]|2[0-4]))$"
_TOWN_CODE = r"^330604[0-9]{3}$"
_ACCOUNT_NO = r"^[0-9]{16}$"
_FLAG = ["0", "1"]


def _rule(fn: checks.Rule, name: str, doc: str) -> checks.Rule:
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def positive_amount(value: pl.Expr) -> pl.Expr:
    """Must be greater than zero."""
    # Judged only on well-formed amounts, so a malformed one is reported once.
    return pl.when(value.str.contains(_AMOUNT)).then(value.cast(pl.Decimal(18, 2)) > 0)


def valid_time_hhmmss(value: pl.Expr) -> pl.Expr:
    """Must be a real time of day written HHMMSS."""
    parsed = value.str.strptime(pl.Time, "%H%M%S", strict=False)
    return pl.when(value.is_not_null()).then(
        value.str.contains(r"^[0-9]{6}$") & (parsed.dt.strftime("%H%M%S") == value).fill_null(False)
    )


def when_column(other: str, values: list[str], rule: checks.Rule) -> checks.Rule:
    """``rule`` judged only on rows whose column ``other`` is one of ``values``.

    Keeps the rule's name, so quarantine names the real defect (e.g. a resident-ID
    checksum on person rows of a column that holds USCCs on enterprise rows).
    """

    def conditional(value: pl.Expr) -> pl.Expr:
        return pl.when(pl.col(other).is_in(values)).then(rule(value))

    return _rule(conditional, rule.__name__, checks.describe(rule))


def row_rule(name: str, doc: str, verdict: pl.Expr) -> classmethod:
    """A rule across columns of one row, as a DataFrameModel dataframe check.

    ``verdict`` is True for a consistent row; null counts as consistent (a missing or
    malformed value is reported by its own column rule). Quarantine names the rule with
    no column, and never echoes the row's values.
    """

    def method(cls: type, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(verdict.fill_null(True).alias(name))

    method.__name__ = name
    return pa.dataframe_check(name=name, description=doc)(method)


def _present(column: str) -> pl.Expr:
    return pl.col(column).is_not_null()


# --- bank network (docs/data-dictionary/bank_network.md) --------------------------------


class OutletRecord(pa.DataFrameModel):
    """CBS_OUTLET: outlets and service points, full snapshot (closed ones included)."""

    outlet_code: str = pa.Field(
        str_matches=_OUTLET_CODE,
        unique=True,
        description="0001-0040 branch outlets; YZ/SQ/ZZ + 4 digits stations, points, sites.",
    )
    outlet_name: str = pa.Field(description="Outlet name.")
    outlet_type: str = pa.Field(
        isin=["1", "2", "3", "4", "5", "6"],
        description="1 head office, 2 sub-branch, 3 sub-office, 4 village station (丰收驿站), "
        "5 community point, 6 off-premises self-service bank.",
    )
    parent_outlet_code: str = pa.Field(
        nullable=True,
        str_matches=_OUTLET_CODE,
        description="Managing outlet; empty for the head office.",
    )
    town_code: str = pa.Field(
        str_matches=_TOWN_CODE, description="Town in force on the business date, 330604xxx."
    )
    town_name: str = pa.Field(description="That town's name on the business date.")
    village_code: str = pa.Field(
        nullable=True,
        str_matches=_VILLAGE_CODE,
        description="Village/community of types 4-6; empty for branch outlets.",
    )
    opened_date: str = pa.Field(description="YYYYMMDD opening date.")
    closed_date: str = pa.Field(
        nullable=True, description="YYYYMMDD closing date, not before opening; empty while open."
    )
    service_count: str = pa.Field(
        nullable=True,
        description="Stations only: convenience services offered on the business date.",
    )

    _names = checks.model_check(checks.not_blank, "outlet_name", "town_name")
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "opened_date", "closed_date")
    _closed = checks.model_check(checks.date_not_before("opened_date"), "closed_date")
    _services = checks.model_check(checks.integer_in_range(0, 999), "service_count")

    _parent = row_rule(
        "parent_outlet_unless_head_office",
        "Every outlet but the head office has a managing outlet.",
        (pl.col("outlet_type") == "1") != _present("parent_outlet_code"),
    )
    _village = row_rule(
        "village_code_of_village_outlets",
        "Stations, community points and self-service sites (types 4-6), and only they, "
        "carry a village code.",
        pl.col("outlet_type").is_in(["4", "5", "6"]) == _present("village_code"),
    )
    _station = row_rule(
        "service_count_of_stations",
        "Stations (type 4), and only they, carry a service count.",
        (pl.col("outlet_type") == "4") == _present("service_count"),
    )

    class Config:
        strict = True
        title = "CBS_OUTLET"
        description = "Outlets and service points, one row per outlet, full snapshot."


class TerminalRecord(pa.DataFrameModel):
    """CBS_TERMINAL: self-service and station terminals, full snapshot."""

    terminal_id: str = pa.Field(
        str_matches=r"^T[0-9]{7}$", unique=True, description="Terminal key: T + 7 digits."
    )
    terminal_type: str = pa.Field(
        isin=["1", "2", "3", "4"],
        description="1 ATM, 2 CRS, 3 self-service kiosk, 4 station/agent terminal (助农终端).",
    )
    outlet_code: str = pa.Field(
        str_matches=_OUTLET_CODE, description="Outlet the terminal belongs to."
    )
    village_code: str = pa.Field(
        nullable=True,
        str_matches=_VILLAGE_CODE,
        description="Village of an off-premises terminal; empty inside branch outlets.",
    )
    installed_date: str = pa.Field(description="YYYYMMDD installation date.")
    removed_date: str = pa.Field(
        nullable=True, description="YYYYMMDD removal date, not before installation."
    )

    _dates = checks.model_check(checks.valid_date_yyyymmdd, "installed_date", "removed_date")
    _removed = checks.model_check(checks.date_not_before("installed_date"), "removed_date")

    class Config:
        strict = True
        title = "CBS_TERMINAL"
        description = "Terminals, one row per terminal, full snapshot."


class ManagerRecord(pa.DataFrameModel):
    """CBS_MANAGER: customer managers and the villages of their grids, full snapshot."""

    manager_no: str = pa.Field(
        str_matches=r"^M[0-9]{5}$", description="Employee number: M + 5 digits."
    )
    manager_name: str = pa.Field(
        str_length=_NAME_LENGTH, metadata=PERSONAL, description="Manager's name."
    )
    gender: str = pa.Field(isin=["M", "F"], description="M / F.")
    outlet_code: str = pa.Field(str_matches=_OUTLET_CODE, description="Outlet worked from.")
    grid_code: str = pa.Field(str_matches=r"^G[0-9]{5}$", description="Grid: G + 5 digits.")
    village_code: str = pa.Field(
        str_matches=_VILLAGE_CODE,
        unique=True,
        description="One village of the grid; each village has one grid manager.",
    )
    hired_date: str = pa.Field(description="YYYYMMDD hiring date.")

    _name = checks.model_check(checks.not_blank, "manager_name")
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "hired_date")

    class Config:
        strict = True
        title = "CBS_MANAGER"
        description = "Customer managers, one row per manager and grid village, full snapshot."


class VisitRecord(pa.DataFrameModel):
    """CBS_VISIT: customer managers' village visits (驻村) on the business date."""

    visit_id: str = pa.Field(
        str_matches=r"^V[0-9]{9}$", unique=True, description="Visit key: V + 9 digits."
    )
    visit_date: str = pa.Field(description="YYYYMMDD visit date, the business date.")
    manager_no: str = pa.Field(str_matches=r"^M[0-9]{5}$", description="The grid manager.")
    village_code: str = pa.Field(str_matches=_VILLAGE_CODE, description="Village visited.")
    purpose_code: str = pa.Field(
        isin=["01", "02", "03", "04", "05", "06"],
        description="01 archiving, 02 credit rating, 03 literacy, 04 station inspection, "
        "05 post-loan check, 06 agency publicity.",
    )
    households_visited: str = pa.Field(description="Households visited (0 or more).")

    _dates = checks.model_check(checks.valid_date_yyyymmdd, "visit_date")
    _households = checks.model_check(checks.integer_in_range(0, 1_000_000), "households_visited")

    class Config:
        strict = True
        title = "CBS_VISIT"
        description = "Village visits, journal of the business date."


INVESTMENT_CATEGORIES = {
    "11": "丰收驿站建设",
    "12": "自助设备购置",
    "13": "网点建设改造",
    "14": "普惠金融系统建设",
    "21": "转账汇款手续费减免",
    "22": "短信服务费减免",
    "23": "小额账户管理费减免",
    "24": "卡工本费年费减免",
    "25": "助农取款手续费减免",
    "26": "收单商户手续费减免",
    "31": "贷款利率优惠让利",
}


class InvestmentRecord(pa.DataFrameModel):
    """CBS_INVESTMENT: investment and fee-waiver (减费让利) ledger entries of the date."""

    entry_id: str = pa.Field(
        str_matches=r"^IV[0-9]{9}$", unique=True, description="Entry key: IV + 9 digits."
    )
    entry_date: str = pa.Field(description="YYYYMMDD booking date, the business date.")
    category_code: str = pa.Field(
        isin=list(INVESTMENT_CATEGORIES),
        description="1x infrastructure investment, 2x fee waivers, 31 rate concessions.",
    )
    category_name: str = pa.Field(
        isin=list(INVESTMENT_CATEGORIES.values()), description="Chinese name of the category."
    )
    outlet_code: str = pa.Field(str_matches=_OUTLET_CODE, description="Outlet booked to.")
    village_code: str = pa.Field(
        nullable=True,
        str_matches=_VILLAGE_CODE,
        description="Village of station builds and off-premises terminals; else empty.",
    )
    amount: str = pa.Field(str_matches=_AMOUNT, description="Amount in yuan, 2 decimals, > 0.")

    _dates = checks.model_check(checks.valid_date_yyyymmdd, "entry_date")
    _positive = checks.model_check(positive_amount, "amount")

    class Config:
        strict = True
        title = "CBS_INVESTMENT"
        description = "Inclusive-finance investment ledger, journal of the business date."


# --- lending (docs/data-dictionary/lending.md) ------------------------------------------


class CustomerRecord(pa.DataFrameModel):
    """CBS_CUSTOMER: loan customers opened on the business date (all of them initially)."""

    cust_no: str = pa.Field(
        str_matches=r"^C[0-9]{9}$", unique=True, description="Customer key: C + 9 digits."
    )
    cust_type: str = pa.Field(isin=["1", "2"], description="1 individual, 2 enterprise.")
    id_no: str = pa.Field(
        nullable=True,
        metadata=PERSONAL,
        description="GB 11643 resident ID of an individual; empty for enterprises.",
    )
    cust_name: str = pa.Field(
        metadata=PERSONAL, description="Person's name (individuals) or enterprise name."
    )
    mobile: str = pa.Field(
        nullable=True, metadata=PERSONAL, description="Individual's mobile number, if given."
    )
    uscc: str = pa.Field(
        nullable=True,
        description="GB 32100 USCC of the enterprise / individual business / owned enterprise.",
    )
    org_name: str = pa.Field(nullable=True, description="Name of the organisation of uscc.")
    borrower_class: str = pa.Field(
        isin=["1", "2", "3", "4"],
        description="1 farm household, 2 small/micro enterprise, 3 individual business, 4 other.",
    )
    ent_size: str = pa.Field(
        nullable=True, isin=["S", "T"], description="S small, T micro; classes 2-4 only."
    )
    is_individual_business: str = pa.Field(isin=_FLAG, description="1 individual business.")
    is_sme_owner: str = pa.Field(isin=_FLAG, description="1 small/micro enterprise owner.")
    village_code: str = pa.Field(
        str_matches=_VILLAGE_CODE, description="Residence or registered village."
    )
    credit_line: str = pa.Field(
        str_matches=_AMOUNT, description="Total credit line in yuan, non-negative, 2 decimals."
    )
    open_date: str = pa.Field(description="YYYYMMDD date the customer was opened.")
    update_time: str = pa.Field(description="YYYYMMDDHHMMSS time of the change shown.")

    _id_format, _id_checksum = (
        checks.model_check(when_column("cust_type", ["1"], rule), "id_no")
        for rule in checks.RESIDENT_ID
    )
    _name = checks.model_check(checks.not_blank, "cust_name")
    _mobile = checks.model_check(checks.valid_mobile_cn, "mobile")
    _uscc_format, _uscc_checksum = (checks.model_check(rule, "uscc") for rule in checks.CREDIT_CODE)
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "open_date")
    _times = checks.model_check(checks.valid_timestamp_yyyymmddhhmmss, "update_time")

    _id_of_individuals = row_rule(
        "id_no_of_individuals",
        "Individual customers (type 1), and only they, carry a resident ID number.",
        (pl.col("cust_type") == "1") == _present("id_no"),
    )
    _mobile_of_individuals = row_rule(
        "no_mobile_for_enterprises",
        "Enterprise customers (type 2) carry no mobile number.",
        (pl.col("cust_type") == "1") | ~_present("mobile"),
    )

    class Config:
        strict = True
        title = "CBS_CUSTOMER"
        description = "Loan customers, changed rows of the business date."


LOAN_PRODUCTS = {
    "P01": "丰收贷",
    "P02": "普惠快车",
    "P03": "小微贷",
    "P04": "青年创业贷",
    "P05": "低收入农户扶贫小额信贷",
    "P06": "三权抵押贷",
}


class LoanRecord(pa.DataFrameModel):
    """CBS_LOAN: loan contracts disbursed, first overdue or settled on the business date."""

    loan_no: str = pa.Field(
        str_matches=r"^L[0-9]{10}$", unique=True, description="Loan key: L + 10 digits."
    )
    cust_no: str = pa.Field(str_matches=r"^C[0-9]{9}$", description="Borrowing customer.")
    product_code: str = pa.Field(isin=list(LOAN_PRODUCTS), description="P01-P06.")
    product_name: str = pa.Field(
        isin=list(LOAN_PRODUCTS.values()), description="Name of the product code."
    )
    borrower_class: str = pa.Field(
        isin=["1", "2", "3", "4"], description="As CBS_CUSTOMER.borrower_class."
    )
    guarantee_type: str = pa.Field(
        isin=["1", "2", "3", "4"], description="1 credit, 2 guaranteed, 3 mortgage, 4 pledge."
    )
    purpose: str = pa.Field(isin=["1", "2"], description="1 business, 2 consumption.")
    is_agri: str = pa.Field(isin=_FLAG, description="1 agriculture-related (涉农) loan.")
    agri_basis: str = pa.Field(
        nullable=True,
        isin=["01", "02", "03"],
        description="Basis of the 涉农 flag: 01 farm household, 02 rural organisation, "
        "03 agricultural industry; empty if not 涉农.",
    )
    green_category: str = pa.Field(
        nullable=True,
        isin=["G01", "G02", "G03", "G05", "G07", "G09", "G10", "G11"],
        description="2013 CBRC green-credit category; empty = not green.",
    )
    inclusive_sme_flag: str = pa.Field(isin=_FLAG, description="1 普惠型小微企业贷款.")
    contract_amount: str = pa.Field(
        str_matches=_AMOUNT, description="Contract amount in yuan, 2 decimals, > 0."
    )
    disburse_date: str = pa.Field(description="YYYYMMDD disbursement date.")
    maturity_date: str = pa.Field(description="YYYYMMDD maturity, not before disbursement.")
    term_months: str = pa.Field(description="Term in months, 1-600.")
    repay_method: str = pa.Field(isin=["1", "2"], description="1 bullet, 2 equal principal.")
    interest_rate: str = pa.Field(
        str_matches=r"^[0-9]{1,3}\.[0-9]{4}$", description="Annual rate in %, 4 decimals."
    )
    status: str = pa.Field(isin=["1", "2", "3"], description="1 normal, 2 overdue, 3 settled.")
    settle_date: str = pa.Field(
        nullable=True, description="YYYYMMDD settlement date (status 3), not before disbursement."
    )
    update_time: str = pa.Field(description="YYYYMMDDHHMMSS time of the change shown.")

    _positive = checks.model_check(positive_amount, "contract_amount")
    _dates = checks.model_check(
        checks.valid_date_yyyymmdd, "disburse_date", "maturity_date", "settle_date"
    )
    _maturity = checks.model_check(checks.date_not_before("disburse_date"), "maturity_date")
    _settle = checks.model_check(checks.date_not_before("disburse_date"), "settle_date")
    _term = checks.model_check(checks.integer_in_range(1, 600), "term_months")
    _times = checks.model_check(checks.valid_timestamp_yyyymmddhhmmss, "update_time")

    _settled = row_rule(
        "settle_date_of_settled_loans",
        "Settled loans (status 3), and only they, carry a settlement date.",
        (pl.col("status") == "3") == _present("settle_date"),
    )
    _agri = row_rule(
        "agri_basis_of_agri_loans",
        "Agriculture-related loans (is_agri 1), and only they, carry the basis of the flag.",
        (pl.col("is_agri") == "1") == _present("agri_basis"),
    )

    class Config:
        strict = True
        title = "CBS_LOAN"
        description = "Loan contracts, changed rows of the business date."


class LoanBalanceRecord(pa.DataFrameModel):
    """CBS_LOAN_BALANCE: every loan outstanding at the end of the business date."""

    loan_no: str = pa.Field(
        str_matches=r"^L[0-9]{10}$", unique=True, description="Loan outstanding."
    )
    balance_date: str = pa.Field(description="YYYYMMDD, the business date.")
    balance: str = pa.Field(
        str_matches=_AMOUNT, description="Principal outstanding in yuan, 2 decimals, > 0."
    )
    overdue_days: str = pa.Field(description="Days past maturity, 0 when not overdue.")

    _dates = checks.model_check(checks.valid_date_yyyymmdd, "balance_date")
    _positive = checks.model_check(positive_amount, "balance")
    _overdue = checks.model_check(checks.integer_in_range(0, 100_000), "overdue_days")

    class Config:
        strict = True
        title = "CBS_LOAN_BALANCE"
        description = "End-of-day loan balances, one row per live loan."


class LoanTxnRecord(pa.DataFrameModel):
    """CBS_LOAN_TXN: disbursements and repayments of the business date."""

    txn_id: str = pa.Field(
        str_matches=r"^LT[0-9]{14}$",
        unique=True,
        description="LT + business date + 6-digit sequence.",
    )
    loan_no: str = pa.Field(str_matches=r"^L[0-9]{10}$", description="Loan moved.")
    txn_date: str = pa.Field(description="YYYYMMDD, the business date.")
    txn_kind: str = pa.Field(
        isin=["01", "02", "03"],
        description="01 disbursement, 02 scheduled instalment, 03 final or early repayment.",
    )
    amount: str = pa.Field(
        str_matches=_AMOUNT, description="Principal moved in yuan, 2 decimals, > 0."
    )
    channel: str = pa.Field(
        isin=["TE", "ME", "SYS"], description="TE counter, ME mobile, SYS automatic debit."
    )

    _dates = checks.model_check(checks.valid_date_yyyymmdd, "txn_date")
    _positive = checks.model_check(positive_amount, "amount")

    class Config:
        strict = True
        title = "CBS_LOAN_TXN"
        description = "Loan journal of the business date."


class CreditRatingRecord(pa.DataFrameModel):
    """CBS_CREDIT_RATING: credit-household and credit-village ratings dated the business date."""

    rating_id: str = pa.Field(
        str_matches=r"^R[0-9]{4}[12][0-9]{9}$",
        unique=True,
        description="R + rating year + type + 9 digits.",
    )
    rating_type: str = pa.Field(
        isin=["1", "2"], description="1 farm household, 2 administrative village."
    )
    household_id: str = pa.Field(
        nullable=True,
        str_matches=r"^H[0-9]{9}$",
        description="Rated household (type 1); empty for villages.",
    )
    village_code: str = pa.Field(
        str_matches=_VILLAGE_CODE, description="The household's village / the rated village."
    )
    rating_year: str = pa.Field(str_matches=r"^(19|20)[0-9]{2}$", description="Year assessed.")
    grade: str = pa.Field(
        isin=["AAA", "AA", "A", "N", "Y"],
        description="Households AAA/AA/A or N; villages Y (信用村) or N.",
    )
    credit_household_share: str = pa.Field(
        nullable=True,
        str_matches=r"^(0\.[0-9]{4}|1\.0000)$",
        description="Villages only: share of credit households, 0-1 with 4 decimals.",
    )
    rated_date: str = pa.Field(description="YYYYMMDD rating date.")

    _dates = checks.model_check(checks.valid_date_yyyymmdd, "rated_date")

    _household = row_rule(
        "household_of_household_ratings",
        "Household ratings (type 1), and only they, name a household; village ratings "
        "(type 2), and only they, carry the credit-household share.",
        ((pl.col("rating_type") == "1") == _present("household_id"))
        & ((pl.col("rating_type") == "2") == _present("credit_household_share")),
    )

    class Config:
        strict = True
        title = "CBS_CREDIT_RATING"
        description = "Credit ratings, journal of the business date."


# --- deposits (docs/data-dictionary/deposits.md) ----------------------------------------


class AccountRecord(pa.DataFrameModel):
    """CBS_ACCOUNT: deposit accounts opened or closed on the business date."""

    account_no: str = pa.Field(
        str_matches=_ACCOUNT_NO,
        unique=True,
        metadata=PERSONAL,
        description="Branch (4) + product (2) + serial (10).",
    )
    customer_type: str = pa.Field(isin=["1", "2"], description="1 person, 2 enterprise.")
    id_no: str = pa.Field(
        metadata=PERSONAL,
        description="GB 11643 resident ID (type 1) or GB 32100 USCC (type 2).",
    )
    account_type: str = pa.Field(
        isin=["01", "02", "11"],
        description="01 personal demand, 02 personal time deposit, 11 corporate demand.",
    )
    branch_code: str = pa.Field(str_matches=_BRANCH_CODE, description="Opening outlet 0001-0024.")
    currency: str = pa.Field(isin=["CNY"], description="CNY.")
    open_date: str = pa.Field(description="YYYYMMDD opening date.")
    close_date: str = pa.Field(
        nullable=True, description="YYYYMMDD closing date, not before opening; empty while open."
    )
    status: str = pa.Field(isin=["0", "1"], description="0 normal, 1 closed.")
    update_time: str = pa.Field(description="YYYYMMDDHHMMSS time of the change reported.")

    _id_format, _id_checksum = (
        checks.model_check(when_column("customer_type", ["1"], rule), "id_no")
        for rule in checks.RESIDENT_ID
    )
    _uscc_format, _uscc_checksum = (
        checks.model_check(when_column("customer_type", ["2"], rule), "id_no")
        for rule in checks.CREDIT_CODE
    )
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "open_date", "close_date")
    _closed = checks.model_check(checks.date_not_before("open_date"), "close_date")
    _times = checks.model_check(checks.valid_timestamp_yyyymmddhhmmss, "update_time")

    _closed_status = row_rule(
        "close_date_of_closed_accounts",
        "Closed accounts (status 1), and only they, carry a closing date.",
        (pl.col("status") == "1") == _present("close_date"),
    )
    _corporate = row_rule(
        "account_type_of_customer_type",
        "Corporate demand accounts (11) belong to enterprises (type 2), others to persons.",
        (pl.col("account_type") == "11") == (pl.col("customer_type") == "2"),
    )

    class Config:
        strict = True
        title = "CBS_ACCOUNT"
        description = "Deposit accounts, changed rows of the business date."


class CardRecord(pa.DataFrameModel):
    """CBS_CARD: 丰收卡 IC cards issued, reported lost or cancelled on the business date."""

    card_no: str = pa.Field(
        unique=True, metadata=PERSONAL, description="19-digit card number, Luhn check digit."
    )
    id_no: str = pa.Field(metadata=PERSONAL, description="Holder's GB 11643 resident ID.")
    account_no: str = pa.Field(
        str_matches=_ACCOUNT_NO, metadata=PERSONAL, description="Linked personal demand account."
    )
    card_type: str = pa.Field(isin=["01"], description="01 丰收卡 IC debit card.")
    branch_code: str = pa.Field(str_matches=_BRANCH_CODE, description="Issuing outlet.")
    issue_date: str = pa.Field(description="YYYYMMDD issue date.")
    status: str = pa.Field(isin=["1", "2", "3"], description="1 active, 2 lost, 3 cancelled.")
    status_date: str = pa.Field(description="YYYYMMDD date of the status, not before issue.")
    update_time: str = pa.Field(description="YYYYMMDDHHMMSS time of the change reported.")

    _card_format, _card_checksum = (
        checks.model_check(rule, "card_no") for rule in checks.CARD_NUMBER
    )
    _id_format, _id_checksum = (checks.model_check(rule, "id_no") for rule in checks.RESIDENT_ID)
    _dates = checks.model_check(checks.valid_date_yyyymmdd, "issue_date", "status_date")
    _status_date = checks.model_check(checks.date_not_before("issue_date"), "status_date")
    _times = checks.model_check(checks.valid_timestamp_yyyymmddhhmmss, "update_time")

    class Config:
        strict = True
        title = "CBS_CARD"
        description = "IC cards, changed rows of the business date."


TXN_TYPES = {
    "01": "现金存款",
    "02": "现金取款",
    "03": "转账转入",
    "04": "转账转出",
    "05": "POS消费",
    "06": "代扣缴费",
    "07": "代发工资",
    "08": "惠农补贴",
    "09": "养老金",
    "10": "贷款还款",
    "11": "理财申购",
    "12": "快捷支付",
}
_TXN_DIRECTION = {
    code: "I" if code in ("01", "03", "07", "08", "09") else "O" for code in TXN_TYPES
}
TXN_CHANNELS = ["TE", "ME", "IE", "AT", "CA", "UP", "IP", "ST", "IB", "ND", "PT", "BA"]


class TxnRecord(pa.DataFrameModel):
    """CBS_TXN: every financial transaction posted on the business date."""

    txn_id: str = pa.Field(
        str_matches=r"^[0-9]{17}$",
        unique=True,
        description="Journal number: business date + 9-digit sequence.",
    )
    txn_date: str = pa.Field(description="YYYYMMDD, the business date.")
    txn_time: str = pa.Field(description="HHMMSS posting time.")
    account_no: str = pa.Field(
        str_matches=_ACCOUNT_NO, metadata=PERSONAL, description="The customer's account."
    )
    card_no: str = pa.Field(
        nullable=True, metadata=PERSONAL, description="Card used; empty for enterprise accounts."
    )
    channel_code: str = pa.Field(isin=TXN_CHANNELS, description="Channel (§3.1); BA batch.")
    txn_type: str = pa.Field(isin=list(TXN_TYPES), description="Transaction type 01-12.")
    direction: str = pa.Field(isin=["I", "O"], description="I into the account, O out of it.")
    amount: str = pa.Field(str_matches=_AMOUNT, description="Amount in yuan, 2 decimals, > 0.")
    counterparty_bank_code: str = pa.Field(
        nullable=True,
        str_matches=r"^([0-9]{12}|Z[0-9]{13})$",
        description="12-digit bank code or Z + 13-digit payment licence; empty for cash.",
    )
    is_internal: str = pa.Field(isin=_FLAG, description="1 counterparty inside the bank.")
    reversal_flag: str = pa.Field(isin=_FLAG, description="1 the entry was reversed (抹账).")
    branch_code: str = pa.Field(str_matches=_BRANCH_CODE, description="Outlet 0001-0024.")
    memo: str = pa.Field(isin=list(TXN_TYPES.values()), description="The type's Chinese name.")

    _dates = checks.model_check(checks.valid_date_yyyymmdd, "txn_date")
    _time = checks.model_check(valid_time_hhmmss, "txn_time")
    _card_format, _card_checksum = (
        checks.model_check(rule, "card_no") for rule in checks.CARD_NUMBER
    )
    _positive = checks.model_check(positive_amount, "amount")

    _direction = row_rule(
        "direction_of_txn_type",
        "The direction (I/O) and the memo are those of the transaction type.",
        (pl.col("direction") == pl.col("txn_type").replace_strict(_TXN_DIRECTION, default=None))
        & (pl.col("memo") == pl.col("txn_type").replace_strict(TXN_TYPES, default=None)),
    )

    class Config:
        strict = True
        title = "CBS_TXN"
        description = "Transaction journal of the business date."


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "regions": RegionRecord,
    "households": HouseholdRecord,
    "archives": ArchiveRecord,
    "outlets": OutletRecord,
    "terminals": TerminalRecord,
    "managers": ManagerRecord,
    "visits": VisitRecord,
    "investments": InvestmentRecord,
    "customers": CustomerRecord,
    "loans": LoanRecord,
    "loan_balances": LoanBalanceRecord,
    "loan_txns": LoanTxnRecord,
    "credit_ratings": CreditRatingRecord,
    "accounts": AccountRecord,
    "cards": CardRecord,
    "txns": TxnRecord,
}
"""Entity name -> model; the entity names match the raw tables ``raw.core_banking__<entity>``."""

# Event dates that cannot lie after the business date (nor before 1949-10-01).
_DATES_IN_RANGE = {
    "households": ("register_date",),
    "archives": ("archive_date",),
    "outlets": ("opened_date", "closed_date"),
    "terminals": ("installed_date", "removed_date"),
    "managers": ("hired_date",),
    "customers": ("open_date",),
    "loans": ("disburse_date", "settle_date"),
    "credit_ratings": ("rated_date",),
    "accounts": ("open_date", "close_date"),
    "cards": ("issue_date", "status_date"),
}
# Dates that must equal the business date (journals and daily snapshots).
_DATES_ON_BUSINESS_DATE = {
    "visits": ("visit_date",),
    "investments": ("entry_date",),
    "loan_balances": ("balance_date",),
    "loan_txns": ("txn_date",),
    "txns": ("txn_date",),
}
VILLAGE_ENTITIES = frozenset(
    entity for entity, model in MODELS.items() if "village_code" in model.to_schema().columns
) - {"regions"}
"""Entities whose village_code must be a village of the day's region batch."""


def schema_for(
    entity: str,
    *,
    business_date: datetime.date,
    village_codes: Collection[str] | None,
) -> pa.DataFrameSchema:
    """The entity's schema plus the rules that depend on this batch.

    Adds ``date_in_range`` to the entity's event dates (1949-10-01 to the business date;
    exactly the business date for journal and balance dates) and ``known_village_code``
    to ``village_code`` of every table that carries one. ``village_codes=None`` skips the
    village check (for regions, which define the codes).
    """
    village = checks.known_village_code(village_codes) if village_codes is not None else None
    return _with_batch_rules(entity, business_date, village)


BUSINESS_DATE_COLUMN = "_business_date"


def schema_for_dates(
    entity: str, *, village_codes: Mapping[datetime.date, Collection[str]] | None
) -> pa.DataFrameSchema:
    """:func:`schema_for` of a batch of many business dates, each row's in ``_business_date``.

    The same rules judged against the row's own date (its region file's village codes,
    ``village_codes`` per date); for ``puhui.validate.split_valid_batches``. The messages
    of the date rules show ``checks.BATCH_DATE`` for the business date.
    """
    village = (
        checks.known_village_code_on(village_codes, BUSINESS_DATE_COLUMN)
        if village_codes is not None
        else None
    )
    schema = _with_batch_rules(entity, pl.col(BUSINESS_DATE_COLUMN), village)
    return schema.add_columns({BUSINESS_DATE_COLUMN: pa.Column(pl.Date, nullable=False)})


def _with_batch_rules(
    entity: str, business_date: datetime.date | pl.Expr, village: checks.Rule | None
) -> pa.DataFrameSchema:
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
    for column in _DATES_ON_BUSINESS_DATE.get(entity, ()):
        extra.setdefault(column, []).append(checks.date_in_range(business_date, business_date))
    if village is not None and entity in VILLAGE_ENTITIES:
        extra.setdefault("village_code", []).append(village)

    return schema.update_columns(
        {
            column: {"checks": [*schema.columns[column].checks, *map(checks.to_check, rules)]}
            for column, rules in extra.items()
        }
    )
