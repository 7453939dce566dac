"""pandera models of the agency and government partners' files (代理业务/政府合作方), as text.

Partners' files carry Chinese column names; the extract step maps them by position to the
English field names below (and stops a file whose column names differ), so each model
states the file's contract on the parsed strings: every column a polars String, an empty
cell null. Casting to dates and numbers happens afterwards, on rows that passed.

Header/detail files (subsidy rosters and returns, utility withholding, payroll) have two
models: ``*Header`` for the one batch-header row and ``*Detail`` for the rows. A header
that fails its model stops the whole file (its details cannot be reconciled); a detail
that fails is quarantined on its own. Reconciliation of the details against the header
totals is done by the extract step, not here, because it spans both blocks.

Personal fields carry ``metadata={"personal": True}``: quarantine messages never repeat
their values, and the loader replaces them with keyed hashes and masked forms.
Uniqueness is checked per file (one partner batch): each model's ``unique`` key.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas import checks

PERSONAL = {"personal": True}
"""Field metadata marking personal data (PIPL): never echoed, hashed at load."""

_TOWN_CODE = r"^330604[0-9]{3}$"
_VILLAGE_CODE = r"^330604[0-9]{6}$"
_NAME_LENGTH = {"min_value": 1, "max_value": 10}
_SEQ = r"^[1-9][0-9]{0,8}$"
_COUNT = r"^(0|[1-9][0-9]{0,8})$"
_QUANTITY = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"
_PERIOD = r"^20[0-9]{2}(0[1-9]|1[0-2])$"
_YEAR = r"^20[0-9]{2}$"
_SUBSIDY_BATCH_NO = r"^(NY01|NY02|MS01|MS02)20[0-9]{2}[0-9]{4}$"

SUBSIDY_ITEMS = ["NY01", "NY02", "MS01", "MS02"]
SUBSIDY_FAIL_REASONS = ["账户不存在", "户名不符", "账户已销户", "账户冻结", "证件号码不符"]
BANK_TYPE_CODES = ["314", "102", "103", "104", "105", "403"]
LOW_INCOME_CATEGORIES = ["低保", "低保边缘", "低收入农户"]
EVENT_TOPICS = [
    "防范非法集资",
    "反假货币",
    "金融消费者权益保护",
    "移动支付安全",
    "征信知识普及",
    "惠农政策宣传",
    "防范电信网络诈骗",
    "普惠金融产品介绍",
]


# --- rules of these files (the generic ones live in schemas/checks.py) ------------------


def _judge(value: pl.Expr, verdict: pl.Expr, applies: pl.Expr | None = None) -> pl.Expr:
    condition = value.is_not_null() if applies is None else value.is_not_null() & applies
    return pl.when(condition).then(verdict.fill_null(False))


_AMOUNT_SHAPE = r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$"


def amount_format(value: pl.Expr) -> pl.Expr:
    """Must be an amount in yuan with at most 2 decimals."""
    return _judge(value, value.str.contains(_AMOUNT_SHAPE))


def non_negative_amount(value: pl.Expr) -> pl.Expr:
    """Must not be negative."""
    return _judge(value, ~value.str.starts_with("-"), applies=value.str.contains(_AMOUNT_SHAPE))


AMOUNT: tuple[checks.Rule, ...] = (amount_format, non_negative_amount)
"""Pair of rules for amounts: a sign error is reported once, as ``non_negative_amount``."""


def parse_date_iso(value: pl.Expr) -> pl.Expr:
    """The Date a YYYY-MM-DD string denotes; null unless it round-trips exactly."""
    parsed = value.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    return pl.when(parsed.dt.strftime("%Y-%m-%d") == value).then(parsed)


def valid_date_iso(value: pl.Expr) -> pl.Expr:
    """Must be a real calendar date written YYYY-MM-DD."""
    return _judge(value, parse_date_iso(value).is_not_null())


def _amount_fields(*fields: str) -> tuple[classmethod, classmethod]:
    return tuple(checks.model_check(rule, *fields) for rule in AMOUNT)  # type: ignore[return-value]


# --- subsidy rosters (惠民惠农补贴发放清册) ---------------------------------------------


class SubsidyHeader(pa.DataFrameModel):
    """AGY_SUBSIDY_<batch no>: batch header (批次信息) of a subsidy roster."""

    batch_no: str = pa.Field(
        str_matches=_SUBSIDY_BATCH_NO, unique=True, description="批次号: item + year + seq 4."
    )
    item_code: str = pa.Field(isin=SUBSIDY_ITEMS, description="补贴项目代码.")
    item_name: str = pa.Field(description="补贴项目名称.")
    fund_year: str = pa.Field(str_matches=_YEAR, description="资金年度, YYYY.")
    department: str = pa.Field(description="主管部门, the competent department.")
    appropriation_doc_no: str = pa.Field(description="拨款文号 (虞财农〔YYYY〕N号).")
    total_count: str = pa.Field(str_matches=_COUNT, description="总笔数: number of details.")
    total_amount: str = pa.Field(description="总金额: Σ 金额 of the details, yuan.")
    pay_date: str = pa.Field(description="发放日期, YYYY-MM-DD.")

    _names = checks.model_check(checks.not_blank, "item_name", "department")
    _amount_format, _amount_sign = _amount_fields("total_amount")
    _dates = checks.model_check(valid_date_iso, "pay_date")

    class Config:
        strict = True
        title = "AGY_SUBSIDY header"
        description = "Subsidy roster batch header, one row per roster."


class SubsidyDetail(pa.DataFrameModel):
    """AGY_SUBSIDY_<batch no>: detail rows (发放明细) of a subsidy roster."""

    seq_no: str = pa.Field(str_matches=_SEQ, unique=True, description="序号, 1.. within the batch.")
    town_code: str = pa.Field(str_matches=_TOWN_CODE, description="乡镇(街道)代码 in force.")
    village_code: str = pa.Field(str_matches=_VILLAGE_CODE, description="行政村代码, 12 digits.")
    beneficiary_name: str = pa.Field(
        str_length=_NAME_LENGTH, metadata=PERSONAL, description="补贴对象姓名."
    )
    beneficiary_id_no: str = pa.Field(metadata=PERSONAL, description="身份证号码 (GB 11643).")
    account_no: str = pa.Field(metadata=PERSONAL, description="卡号(账号) credited (Luhn).")
    bank_name: str = pa.Field(description="开户行, bank of the account.")
    basis_quantity: str = pa.Field(str_matches=_QUANTITY, description="补贴依据数量.")
    basis_unit: str = pa.Field(isin=["亩", "人", "月"], description="计量单位.")
    rate_amount: str = pa.Field(description="补贴标准, yuan per unit.")
    amount: str = pa.Field(description="金额, yuan.")
    remark: str = pa.Field(nullable=True, description="备注 (户主代领 for per-household items).")

    _name = checks.model_check(checks.not_blank, "beneficiary_name", "bank_name")
    _id_format, _id_checksum = (
        checks.model_check(rule, "beneficiary_id_no") for rule in checks.RESIDENT_ID
    )
    _card_format, _card_checksum = (
        checks.model_check(rule, "account_no") for rule in checks.CARD_NUMBER
    )
    _amount_format, _amount_sign = _amount_fields("rate_amount", "amount")

    class Config:
        strict = True
        title = "AGY_SUBSIDY detail"
        description = "Subsidy roster details, one row per beneficiary of a batch."


# --- subsidy return files (补贴发放回盘) ----------------------------------------------


class SubsidyReturnHeader(SubsidyHeader):
    """AGY_SUBSIDY_RET_<batch no>: roster header plus the bank's result totals."""

    success_count: str = pa.Field(str_matches=_COUNT, description="成功笔数.")
    success_amount: str = pa.Field(description="成功金额, yuan.")
    failure_count: str = pa.Field(str_matches=_COUNT, description="失败笔数.")
    failure_amount: str = pa.Field(description="失败金额, yuan.")

    _result_format, _result_sign = _amount_fields("success_amount", "failure_amount")

    class Config:
        strict = True
        title = "AGY_SUBSIDY_RET header"
        description = "Subsidy return batch header, one row per returned roster."


class SubsidyReturnDetail(pa.DataFrameModel):
    """AGY_SUBSIDY_RET_<batch no>: one row per roster detail with the bank's result."""

    seq_no: str = pa.Field(str_matches=_SEQ, unique=True, description="序号 of the roster row.")
    town_code: str = pa.Field(str_matches=_TOWN_CODE, description="乡镇(街道)代码.")
    village_code: str = pa.Field(str_matches=_VILLAGE_CODE, description="行政村代码.")
    beneficiary_name: str = pa.Field(
        str_length=_NAME_LENGTH, metadata=PERSONAL, description="补贴对象姓名."
    )
    beneficiary_id_no: str = pa.Field(metadata=PERSONAL, description="身份证号码 (GB 11643).")
    account_no: str = pa.Field(metadata=PERSONAL, description="卡号(账号) (Luhn).")
    bank_name: str = pa.Field(description="开户行.")
    amount: str = pa.Field(description="金额, yuan.")
    status: str = pa.Field(isin=["成功", "失败"], description="处理状态: 成功 / 失败 (退票).")
    failure_reason: str = pa.Field(
        nullable=True, isin=SUBSIDY_FAIL_REASONS, description="失败原因 on failure."
    )
    credit_date: str = pa.Field(nullable=True, description="入账日期 on success, YYYY-MM-DD.")
    bank_serial_no: str = pa.Field(
        nullable=True, str_matches=r"^[0-9]{22}$", description="银行流水号 on success."
    )

    _name = checks.model_check(checks.not_blank, "beneficiary_name", "bank_name")
    _id_format, _id_checksum = (
        checks.model_check(rule, "beneficiary_id_no") for rule in checks.RESIDENT_ID
    )
    _card_format, _card_checksum = (
        checks.model_check(rule, "account_no") for rule in checks.CARD_NUMBER
    )
    _amount_format, _amount_sign = _amount_fields("amount")
    _dates = checks.model_check(valid_date_iso, "credit_date")

    class Config:
        strict = True
        title = "AGY_SUBSIDY_RET detail"
        description = "Subsidy return details, one row per roster row."


# --- utility withholding (代扣水电燃气费) --------------------------------------------


class WithholdingHeader(pa.DataFrameModel):
    """AGY_WITHHOLD_<fee>_<bill month>: batch header of a withholding result."""

    batch_no: str = pa.Field(
        str_matches=r"^DK0[1-3]20[0-9]{6}$", unique=True, description="批次号 DK<fee><YYYYMMDD>."
    )
    utility_name: str = pa.Field(description="收费单位 (utility company).")
    fee_code: str = pa.Field(isin=["01", "02", "03"], description="费项代码: 01 电 02 水 03 气.")
    fee_name: str = pa.Field(isin=["电费", "水费", "燃气费"], description="费项名称.")
    bill_period: str = pa.Field(str_matches=_PERIOD, description="账期, YYYYMM.")
    debit_date: str = pa.Field(description="扣款日期, YYYY-MM-DD.")
    total_count: str = pa.Field(str_matches=_COUNT, description="总笔数.")
    total_due_amount: str = pa.Field(description="应扣总金额 = Σ 应扣金额.")
    success_count: str = pa.Field(str_matches=_COUNT, description="成功笔数.")
    success_amount: str = pa.Field(description="成功金额 = Σ 实扣金额.")
    failure_count: str = pa.Field(str_matches=_COUNT, description="失败笔数.")
    failure_amount: str = pa.Field(description="失败金额 = 应扣总金额 − 成功金额.")

    _names = checks.model_check(checks.not_blank, "utility_name")
    _amount_format, _amount_sign = _amount_fields(
        "total_due_amount", "success_amount", "failure_amount"
    )
    _dates = checks.model_check(valid_date_iso, "debit_date")

    class Config:
        strict = True
        title = "AGY_WITHHOLD header"
        description = "Withholding batch header, one row per utility per month."


class WithholdingDetail(pa.DataFrameModel):
    """AGY_WITHHOLD_<fee>_<bill month>: one row per household bill."""

    seq_no: str = pa.Field(str_matches=_SEQ, unique=True, description="序号.")
    payer_no: str = pa.Field(
        str_matches=r"^(33|SY|RQ)[0-9]{8}$", unique=True, description="缴费号 at the utility."
    )
    card_no: str = pa.Field(metadata=PERSONAL, description="扣款卡号, the 丰收卡 debited (Luhn).")
    holder_name: str = pa.Field(
        str_length=_NAME_LENGTH, metadata=PERSONAL, description="户名 (household head)."
    )
    bill_period: str = pa.Field(str_matches=_PERIOD, description="账期, YYYYMM.")
    usage_quantity: str = pa.Field(str_matches=_COUNT, description="用量 (kWh or m³).")
    due_amount: str = pa.Field(description="应扣金额, yuan.")
    paid_amount: str = pa.Field(description="实扣金额: = 应扣金额 when S, else 0.00.")
    status: str = pa.Field(isin=["S", "U", "T"], description="状态: S 成功, U 未扣, T 可疑.")
    failure_reason: str = pa.Field(
        nullable=True, isin=["余额不足", "超时待确认"], description="失败原因 (U, T)."
    )

    _card_format, _card_checksum = (
        checks.model_check(rule, "card_no") for rule in checks.CARD_NUMBER
    )
    _name = checks.model_check(checks.not_blank, "holder_name")
    _amount_format, _amount_sign = _amount_fields("due_amount", "paid_amount")

    class Config:
        strict = True
        title = "AGY_WITHHOLD detail"
        description = "Withholding results, one row per household bill of a batch."


# --- payroll (代发工资) ------------------------------------------------------------------


class PayrollHeader(pa.DataFrameModel):
    """AGY_PAYROLL_<USCC>_<batch no>: batch header of an employer's pay run."""

    batch_no: str = pa.Field(
        str_matches=r"^DF20[0-9]{6}[0-9]{6}[01]$", unique=True, description="批次号."
    )
    employer_name: str = pa.Field(description="代发单位名称 (an enterprise: not personal).")
    employer_uscc: str = pa.Field(description="统一社会信用代码 (GB 32100).")
    payroll_type: str = pa.Field(isin=["工资", "奖金"], description="代发类型.")
    pay_period: str = pa.Field(
        str_matches=r"^20[0-9]{2}((0[1-9]|1[0-2]))?$", description="所属期间: YYYYMM, YYYY."
    )
    pay_date: str = pa.Field(description="代发日期, YYYY-MM-DD.")
    total_count: str = pa.Field(str_matches=_COUNT, description="总笔数.")
    total_amount: str = pa.Field(description="总金额 = Σ 金额.")
    success_count: str = pa.Field(str_matches=_COUNT, description="成功笔数.")
    success_amount: str = pa.Field(description="成功金额.")
    failure_count: str = pa.Field(str_matches=_COUNT, description="失败笔数.")
    failure_amount: str = pa.Field(description="失败金额.")

    _names = checks.model_check(checks.not_blank, "employer_name")
    _uscc_format, _uscc_checksum = (
        checks.model_check(rule, "employer_uscc") for rule in checks.CREDIT_CODE
    )
    _amount_format, _amount_sign = _amount_fields(
        "total_amount", "success_amount", "failure_amount"
    )
    _dates = checks.model_check(valid_date_iso, "pay_date")

    class Config:
        strict = True
        title = "AGY_PAYROLL header"
        description = "Payroll batch header, one row per employer pay run."


class PayrollDetail(pa.DataFrameModel):
    """AGY_PAYROLL_<USCC>_<batch no>: one row per employee paid."""

    seq_no: str = pa.Field(str_matches=_SEQ, unique=True, description="序号.")
    employee_name: str = pa.Field(str_length=_NAME_LENGTH, metadata=PERSONAL, description="姓名.")
    employee_id_no: str = pa.Field(metadata=PERSONAL, description="身份证号码 (GB 11643).")
    account_no: str = pa.Field(metadata=PERSONAL, description="收款账号 (Luhn).")
    bank_code: str = pa.Field(isin=BANK_TYPE_CODES, description="收款行行别代码 (314 this bank).")
    bank_name: str = pa.Field(description="收款行名称.")
    amount: str = pa.Field(description="金额, yuan.")
    memo: str = pa.Field(
        nullable=True, str_matches=r"^20[0-9]{2}([0-9]{2})?(工资|奖金)$", description="摘要."
    )
    result: str = pa.Field(isin=["成功", "失败"], description="处理结果.")
    failure_reason: str = pa.Field(
        nullable=True, isin=["账户不存在", "户名不符"], description="失败原因 on failure."
    )

    _name = checks.model_check(checks.not_blank, "employee_name", "bank_name")
    _id_format, _id_checksum = (
        checks.model_check(rule, "employee_id_no") for rule in checks.RESIDENT_ID
    )
    _card_format, _card_checksum = (
        checks.model_check(rule, "account_no") for rule in checks.CARD_NUMBER
    )
    _amount_format, _amount_sign = _amount_fields("amount")

    class Config:
        strict = True
        title = "AGY_PAYROLL detail"
        description = "Payroll details, one row per employee of a pay run."


# --- single-block registers and logs ----------------------------------------------------


class LowIncomeRecord(pa.DataFrameModel):
    """AGY_LOWINCOME_<FULL|CHANGE>: the civil-affairs office's low-income register."""

    seq_no: str = pa.Field(str_matches=_SEQ, unique=True, description="序号.")
    head_id_no: str = pa.Field(
        metadata=PERSONAL, unique=True, description="户主身份证号码 (GB 11643)."
    )
    head_name: str = pa.Field(str_length=_NAME_LENGTH, metadata=PERSONAL, description="户主姓名.")
    town_code: str = pa.Field(str_matches=_TOWN_CODE, description="乡镇(街道)代码.")
    town_name: str = pa.Field(description="乡镇(街道)名称.")
    village_code: str = pa.Field(str_matches=_VILLAGE_CODE, description="行政村代码.")
    register_year: str = pa.Field(str_matches=_YEAR, description="认定年度, YYYY.")
    category: str = pa.Field(isin=LOW_INCOME_CATEGORIES, description="认定类别.")
    household_size: str = pa.Field(description="家庭人口, 1-20.")
    listed_date: str = pa.Field(description="纳入日期, YYYY-MM-DD.")
    removed_date: str = pa.Field(nullable=True, description="退出日期, YYYY-MM-DD.")
    change_type: str = pa.Field(isin=["在册", "新增", "退出"], description="变动类型.")

    _id_format, _id_checksum = (
        checks.model_check(rule, "head_id_no") for rule in checks.RESIDENT_ID
    )
    _name = checks.model_check(checks.not_blank, "head_name", "town_name")
    _size = checks.model_check(checks.integer_in_range(1, 20), "household_size")
    _dates = checks.model_check(valid_date_iso, "listed_date", "removed_date")

    class Config:
        strict = True
        title = "AGY_LOWINCOME"
        description = "Low-income households register (FULL) or its monthly changes (CHANGE)."


class DivisionRecord(pa.DataFrameModel):
    """AGY_DIVISION: the statistics office's division register with population."""

    division_code: str = pa.Field(
        str_matches=_VILLAGE_CODE, unique=True, description="统计用区划代码 (stable 2016 code)."
    )
    division_name: str = pa.Field(description="名称.")
    division_type: str = pa.Field(isin=["行政村", "社区"], description="类型.")
    urban_rural_code: str = pa.Field(
        isin=["111", "112", "121", "122", "123", "210", "220"], description="城乡分类代码."
    )
    town_code: str = pa.Field(str_matches=_TOWN_CODE, description="乡镇(街道)代码 in force.")
    town_name: str = pa.Field(description="乡镇(街道)名称.")
    town_type: str = pa.Field(isin=["街道", "镇", "乡"], description="乡镇类型.")
    registered_households: str = pa.Field(str_matches=_COUNT, description="户籍户数.")
    registered_population: str = pa.Field(str_matches=_COUNT, description="户籍人口.")
    stat_date: str = pa.Field(description="统计日期, YYYY-MM-DD.")

    _names = checks.model_check(checks.not_blank, "division_name", "town_name")
    _dates = checks.model_check(valid_date_iso, "stat_date")

    class Config:
        strict = True
        title = "AGY_DIVISION"
        description = "Administrative divisions with population, one row per village."


class LiteracyEventRecord(pa.DataFrameModel):
    """AGY_FINLIT: financial-literacy events (金融知识进村活动)."""

    event_id: str = pa.Field(
        str_matches=r"^JR20[0-9]{6}[0-9]{5}$", unique=True, description="活动编号."
    )
    event_date: str = pa.Field(description="活动日期, YYYY-MM-DD.")
    town_code: str = pa.Field(str_matches=_TOWN_CODE, description="乡镇(街道)代码 in force.")
    village_code: str = pa.Field(str_matches=_VILLAGE_CODE, description="行政村代码.")
    village_name: str = pa.Field(description="行政村名称.")
    topic: str = pa.Field(isin=EVENT_TOPICS, description="活动主题.")
    organiser: str = pa.Field(description="主办单位.")
    participants: str = pa.Field(description="参加人数, 1-10000.")

    _names = checks.model_check(checks.not_blank, "village_name", "organiser")
    _participants = checks.model_check(checks.integer_in_range(1, 10000), "participants")
    _dates = checks.model_check(valid_date_iso, "event_date")

    class Config:
        strict = True
        title = "AGY_FINLIT"
        description = "Financial-literacy events, one row per event."


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "subsidy_header": SubsidyHeader,
    "subsidy_detail": SubsidyDetail,
    "subsidy_return_header": SubsidyReturnHeader,
    "subsidy_return_detail": SubsidyReturnDetail,
    "withholding_header": WithholdingHeader,
    "withholding_detail": WithholdingDetail,
    "payroll_header": PayrollHeader,
    "payroll_detail": PayrollDetail,
    "low_income": LowIncomeRecord,
    "division": DivisionRecord,
    "literacy_events": LiteracyEventRecord,
}
"""Block name -> model (the extract step's ``Layout.header_model``/``detail_model``)."""

_SCHEMAS: dict[str, pa.DataFrameSchema] = {}


def schema_for(block: str) -> pa.DataFrameSchema:
    """The (cached) schema of one block of a partner file."""
    if block not in _SCHEMAS:
        try:
            _SCHEMAS[block] = MODELS[block].to_schema()
        except KeyError:
            raise ValueError(
                f"unknown agency block {block!r}; expected one of {sorted(MODELS)}"
            ) from None
    return _SCHEMAS[block]
