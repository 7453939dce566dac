-- Raw core-banking tables. Source column names are kept; personal data is replaced at
-- load time by <field>_hash (HMAC-SHA256 truncated to 128 bits, 32 hex digits, key PUHUI_PII_KEY) and <field>_masked,
-- plus safe derived attributes. Every table carries the load metadata columns.
-- Each (table, _business_date) batch is replaced as a whole inside one transaction.

-- CBS_REGION: full snapshot of the bank's region parameter table, as of the business
-- date. village_code is the village's stable 12-digit code (its code under the 2016
-- division); town_code/town_name/town_type are those in force on the business date.
create table if not exists raw.core_banking__regions (
    village_code      text not null,
    village_name      text not null,
    village_type      text not null,   -- 1 community (社区/居委会), 2 administrative village (行政村)
    town_code         text not null,   -- 9 digits, 330604xxx
    town_name         text not null,
    town_type         text not null,   -- 1 sub-district (街道), 2 town (镇), 3 township (乡)
    urban_rural_code  text not null,   -- NBS 城乡分类代码: 111 112 121 122 123 210 220
    effective_date    date not null,   -- date the town assignment took effect
    _batch_id         text not null,
    _business_date    date not null,
    _source_file      text not null,
    _line_number      integer not null,
    _loaded_at        timestamptz not null
);
create index if not exists core_banking__regions_bd_idx on raw.core_banking__regions (_business_date);

-- CBS_HOUSEHOLD: changed rows (增变量) of the registered-household table; the first
-- business date of a source carries every household (initial unload).
create table if not exists raw.core_banking__households (
    household_id      text not null,
    village_code      text not null,
    head_id_hash      text not null,
    head_id_masked    text not null,
    head_birth_year   smallint not null,
    head_gender       text not null,   -- M / F, from the ID's sequence digit
    head_id_region    text not null,   -- first 6 digits of the ID (registration county)
    head_name_hash    text not null,
    head_name_masked  text not null,
    member_count      smallint not null,
    household_type    text not null,   -- 1 agricultural (农业户), 2 non-agricultural
    register_date     date not null,
    cancel_date       date,
    update_time       timestamp not null,
    _batch_id         text not null,
    _business_date    date not null,
    _source_file      text not null,
    _line_number      integer not null,
    _loaded_at        timestamptz not null
);
create index if not exists core_banking__households_bd_idx on raw.core_banking__households (_business_date);
create index if not exists core_banking__households_key_idx on raw.core_banking__households (household_id, _business_date);

-- CBS_ARCHIVE: changed rows of the inclusive-finance information archive (普惠信息档案).
create table if not exists raw.core_banking__archives (
    archive_id        text not null,
    household_id      text not null,
    village_code      text not null,
    id_hash           text not null,
    id_masked         text not null,
    birth_year        smallint not null,
    gender            text not null,
    id_region         text not null,
    name_hash         text not null,
    name_masked       text not null,
    mobile_hash       text,
    mobile_masked     text,
    archive_date      date not null,
    archive_status    text not null,   -- 1 active, 0 revoked (注销)
    manager_no        text not null,
    annual_income     numeric(18, 2) not null,
    update_time       timestamp not null,
    _batch_id         text not null,
    _business_date    date not null,
    _source_file      text not null,
    _line_number      integer not null,
    _loaded_at        timestamptz not null
);
create index if not exists core_banking__archives_bd_idx on raw.core_banking__archives (_business_date);
create index if not exists core_banking__archives_key_idx on raw.core_banking__archives (archive_id, _business_date);
