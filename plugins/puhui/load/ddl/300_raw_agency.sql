-- Raw tables of the agency business and government partners' files (代理业务, folder AGY).
-- Written by plugins/puhui/extract/agency.py; the files are described in
-- docs/data-dictionary/agency.md. Field names are the English names of the files' Chinese
-- columns (the mapping is the extract's LAYOUTS). Personal data (names, resident IDs,
-- card/account numbers of persons) is replaced at load time by <field>_hash (HMAC-SHA256
-- truncated to 128 bits, 32 hex digits, key PUHUI_PII_KEY) and <field>_masked plus safe attributes (birth year, gender, ID
-- region = first 6 ID digits, card BIN = first 6 digits); bank names and codes, employer
-- names and USCCs (enterprises) are kept.
--
-- Batches: partners deliver several files of one kind on one date (one per employer,
-- utility, roster). All files of an entity on a business date form ONE batch, replaced as
-- a whole inside one transaction; each row keeps its own _source_file and _line_number
-- (CSV: the line in the file; xlsx: the row in the sheet). A date without files replaces
-- the date's batch with an empty one.
--
-- Header/detail files are reconciled against their batch header (count and amount, and
-- the success/failure split) before loading: a file that does not add up loads nothing
-- and is audited as 'failed' in ops.load_audit. batch_no (批次号) is the natural key of a
-- delivery: an identical re-send on the same date, or a batch number already loaded on an
-- earlier date, is skipped and audited as 'duplicate'.

-- AGY_SUBSIDY_<batch no>_<date>.xlsx|csv, sheet/block 批次信息: one row per subsidy roster.
create table if not exists raw.agency__subsidy_batches (
    batch_no              text not null,            -- 批次号 <item><year><seq 4>
    item_code             text not null,            -- NY01 NY02 MS01 MS02
    item_name             text not null,
    fund_year             text not null,            -- YYYY
    department            text not null,            -- 主管部门
    appropriation_doc_no  text not null,            -- 拨款文号
    total_count           integer not null,         -- 总笔数 (= detail rows, reconciled)
    total_amount          numeric(18, 2) not null,  -- 总金额 (= Σ detail amount, reconciled)
    pay_date              date not null,            -- 发放日期
    _batch_id             text not null,
    _business_date        date not null,
    _source_file          text not null,
    _line_number          integer not null,         -- 2 (the header values row)
    _loaded_at            timestamptz not null
);
create index if not exists agency__subsidy_batches_bd_idx on raw.agency__subsidy_batches (_business_date);
create index if not exists agency__subsidy_batches_key_idx on raw.agency__subsidy_batches (batch_no);

-- AGY_SUBSIDY_<batch no>, sheet/block 发放明细: one row per beneficiary of a roster.
create table if not exists raw.agency__subsidy_details (
    batch_no                 text not null,
    item_code                text not null,
    seq_no                   integer not null,      -- 序号 within the batch
    town_code                text not null,         -- in force on the roster date
    village_code             text not null,         -- stable 12-digit code
    beneficiary_name_hash    text not null,
    beneficiary_name_masked  text not null,
    beneficiary_id_hash      text not null,
    beneficiary_id_masked    text not null,
    beneficiary_birth_year   smallint not null,
    beneficiary_gender       text not null,         -- M / F
    beneficiary_id_region    text not null,
    account_hash             text not null,
    account_masked           text not null,         -- first 6 + last 4
    account_bin              text not null,         -- 622858 = this bank's 丰收卡
    bank_name                text not null,         -- 开户行
    basis_quantity           numeric(18, 4) not null,
    basis_unit               text not null,         -- 亩 人 月
    rate_amount              numeric(18, 2) not null,
    amount                   numeric(18, 2) not null,
    remark                   text,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists agency__subsidy_details_bd_idx on raw.agency__subsidy_details (_business_date);
create index if not exists agency__subsidy_details_key_idx on raw.agency__subsidy_details (batch_no, seq_no);

-- AGY_SUBSIDY_RET_<batch no>_<pay date>.csv (GBK): the bank's result of each roster row;
-- header fields batch_no/item_code/fund_year/pay_date are repeated on every row.
create table if not exists raw.agency__subsidy_returns (
    batch_no                 text not null,
    item_code                text not null,
    fund_year                text not null,
    pay_date                 date not null,
    seq_no                   integer not null,
    town_code                text not null,
    village_code             text not null,
    beneficiary_name_hash    text not null,
    beneficiary_name_masked  text not null,
    beneficiary_id_hash      text not null,
    beneficiary_id_masked    text not null,
    beneficiary_birth_year   smallint not null,
    beneficiary_gender       text not null,
    beneficiary_id_region    text not null,
    account_hash             text not null,
    account_masked           text not null,
    account_bin              text not null,
    bank_name                text not null,
    amount                   numeric(18, 2) not null,
    status                   text not null,         -- 成功 / 失败 (退票)
    failure_reason           text,
    credit_date              date,                  -- 入账日期 on success
    bank_serial_no           text,                  -- 银行流水号 on success
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists agency__subsidy_returns_bd_idx on raw.agency__subsidy_returns (_business_date);
create index if not exists agency__subsidy_returns_key_idx on raw.agency__subsidy_returns (batch_no, seq_no);

-- AGY_WITHHOLD_<fee>_<bill month>_<date>.csv (GBK or UTF-8 BOM): utility withholding
-- results, one row per household bill; header fields repeated on every row.
create table if not exists raw.agency__withholding (
    batch_no            text not null,              -- DK<fee><YYYYMMDD>
    utility_name        text not null,              -- 收费单位
    fee_code            text not null,              -- 01 电费 02 水费 03 燃气费
    fee_name            text not null,
    debit_date          date not null,              -- 扣款日期
    seq_no              integer not null,
    payer_no            text not null,              -- 缴费号 at the utility (33/SY/RQ + 8)
    card_hash           text not null,
    card_masked         text not null,
    card_bin            text not null,
    holder_name_hash    text not null,
    holder_name_masked  text not null,
    bill_period         text not null,              -- 账期 YYYYMM
    usage_quantity      bigint not null,            -- kWh / m³
    due_amount          numeric(18, 2) not null,    -- 应扣金额
    paid_amount         numeric(18, 2) not null,    -- 实扣金额 (= due when S, else 0)
    status              text not null,              -- S 成功, U 未扣, T 可疑
    failure_reason      text,
    _batch_id           text not null,
    _business_date      date not null,
    _source_file        text not null,
    _line_number        integer not null,
    _loaded_at          timestamptz not null
);
create index if not exists agency__withholding_bd_idx on raw.agency__withholding (_business_date);
create index if not exists agency__withholding_key_idx on raw.agency__withholding (batch_no, seq_no);

-- AGY_PAYROLL_<USCC>_<batch no>_<date>.csv (UTF-8 BOM): payroll results, one row per
-- employee paid; header fields repeated on every row.
create table if not exists raw.agency__payroll (
    batch_no               text not null,           -- DF<YYYYMMDD><employer 6><0 wages|1 bonus>
    employer_name          text not null,           -- enterprise: not personal
    employer_uscc          text not null,           -- GB 32100
    payroll_type           text not null,           -- 工资 / 奖金
    pay_period             text not null,           -- YYYYMM, or YYYY for a bonus
    pay_date               date not null,
    seq_no                 integer not null,
    employee_name_hash     text not null,
    employee_name_masked   text not null,
    employee_id_hash       text not null,
    employee_id_masked     text not null,
    employee_birth_year    smallint not null,
    employee_gender        text not null,
    employee_id_region     text not null,
    account_hash           text not null,
    account_masked         text not null,
    account_bin            text not null,
    bank_code              text not null,           -- 行别代码: 314 this bank
    bank_name              text not null,
    amount                 numeric(18, 2) not null,
    memo                   text,
    result                 text not null,           -- 成功 / 失败
    failure_reason         text,
    _batch_id              text not null,
    _business_date         date not null,
    _source_file           text not null,
    _line_number           integer not null,
    _loaded_at             timestamptz not null
);
create index if not exists agency__payroll_bd_idx on raw.agency__payroll (_business_date);
create index if not exists agency__payroll_key_idx on raw.agency__payroll (batch_no, seq_no);

-- AGY_LOWINCOME_<FULL|CHANGE>_<date>.csv (GBK): the low-income register (FULL) or its
-- monthly changes (CHANGE); file_type says which.
create table if not exists raw.agency__low_income_register (
    file_type          text not null,               -- FULL / CHANGE (from the file name)
    seq_no             integer not null,
    head_id_hash       text not null,               -- = core_banking households.head_id_hash
    head_id_masked     text not null,
    head_birth_year    smallint not null,
    head_gender        text not null,
    head_id_region     text not null,
    head_name_hash     text not null,
    head_name_masked   text not null,
    town_code          text not null,
    town_name          text not null,
    village_code       text not null,
    register_year      text not null,
    category           text not null,               -- 低保 / 低保边缘 / 低收入农户
    household_size     smallint not null,
    listed_date        date not null,
    removed_date       date,
    change_type        text not null,               -- 在册 / 新增 / 退出
    _batch_id          text not null,
    _business_date     date not null,
    _source_file       text not null,
    _line_number       integer not null,
    _loaded_at         timestamptz not null
);
create index if not exists agency__low_income_register_bd_idx on raw.agency__low_income_register (_business_date);

-- AGY_DIVISION_<date>.xlsx: the statistics office's division register with population,
-- one row per village/community (full snapshot on each register date).
create table if not exists raw.agency__division_register (
    division_code          text not null,           -- 统计用区划代码 (stable 2016 code)
    division_name          text not null,
    division_type          text not null,           -- 行政村 / 社区
    urban_rural_code       text not null,
    town_code              text not null,
    town_name              text not null,
    town_type              text not null,           -- 街道 / 镇 / 乡
    registered_households  integer not null,
    registered_population  integer not null,
    stat_date              date not null,
    _batch_id              text not null,
    _business_date         date not null,
    _source_file           text not null,
    _line_number           integer not null,        -- row in the sheet
    _loaded_at             timestamptz not null
);
create index if not exists agency__division_register_bd_idx on raw.agency__division_register (_business_date);

-- AGY_FINLIT_<date>.csv (UTF-8 BOM): financial-literacy events, one row per event.
create table if not exists raw.agency__literacy_events (
    event_id        text not null,                  -- JR<YYYYMMDD><seq 5>
    event_date      date not null,
    town_code       text not null,
    village_code    text not null,
    village_name    text not null,
    topic           text not null,
    organiser       text not null,
    participants    integer not null,
    _batch_id       text not null,
    _business_date  date not null,
    _source_file    text not null,
    _line_number    integer not null,
    _loaded_at      timestamptz not null
);
create index if not exists agency__literacy_events_bd_idx on raw.agency__literacy_events (_business_date);
