-- Raw e-banking (丰收互联) tables, extracted incrementally from the platform's OLTP database
-- by the updated_at watermark (puhui.extract.ebanking). Unlike the core-banking batches,
-- these tables hold ONE row per natural key, the latest version seen: each night's rows
-- are upserted, and a row replaces the stored one only when its updated_at is later.
-- The load metadata names the batch that wrote the current version. Source column names
-- are kept; personal data is replaced by <field>_hash (HMAC-SHA256 truncated to 128 bits, 32 hex digits, key PUHUI_PII_KEY)
-- and <field>_masked plus safe derived attributes. The platform's local timestamps
-- (UTC+8, no zone) are stored as timestamptz in Asia/Shanghai.

-- eb_user: enrolments.
create table if not exists raw.ebanking__users (
    user_id           bigint primary key,
    id_hash           text not null,
    id_masked         text not null,
    birth_year        smallint not null,
    gender            text not null,   -- M / F, from the ID's sequence digit
    id_region         text not null,   -- first 6 digits of the ID (registration county)
    name_hash         text not null,
    name_masked       text not null,
    mobile_hash       text not null,
    mobile_masked     text not null,
    card_hash         text not null,
    card_masked       text not null,
    card_bin          text not null,   -- first 6 digits of the card (issuer BIN)
    channel           text not null,   -- MOBILE / INTERNET
    status            text not null,   -- ACTIVE / LOCKED / CLOSED
    enrolled_at       timestamptz not null,
    created_at        timestamptz not null,
    updated_at        timestamptz not null,
    _batch_id         text not null,
    _business_date    date not null,
    _source_file      text not null,   -- source database (password hidden) # table
    _loaded_at        timestamptz not null
);
create index if not exists ebanking__users_bd_idx on raw.ebanking__users (_business_date);

-- eb_login: login events (insert-only at the source).
create table if not exists raw.ebanking__logins (
    login_id          bigint primary key,
    user_id           bigint not null,
    login_at          timestamptz not null,
    channel           text not null,   -- MOBILE / INTERNET
    device            text not null,   -- ANDROID / IOS / PC
    result            text not null,   -- SUCCESS / FAIL
    created_at        timestamptz not null,
    updated_at        timestamptz not null,
    _batch_id         text not null,
    _business_date    date not null,
    _source_file      text not null,
    _loaded_at        timestamptz not null
);
create index if not exists ebanking__logins_bd_idx on raw.ebanking__logins (_business_date);

-- eb_transaction: electronic transactions, latest status (PENDING -> SUCCESS / FAILED).
create table if not exists raw.ebanking__transactions (
    txn_id            bigint primary key,
    user_id           bigint not null,
    card_hash         text not null,
    card_masked       text not null,
    card_bin          text not null,
    account_hash      text not null,
    account_masked    text not null,
    txn_type          text not null,
    channel           text not null,
    amount            numeric(18, 2) not null,
    counterparty_bank text,
    status            text not null,   -- PENDING / SUCCESS / FAILED
    fail_reason       text,
    cbs_txn_id        text,            -- CBS_TXN.txn_id once SUCCESS
    created_at        timestamptz not null,
    updated_at        timestamptz not null,
    _batch_id         text not null,
    _business_date    date not null,
    _source_file      text not null,
    _loaded_at        timestamptz not null
);
create index if not exists ebanking__transactions_bd_idx on raw.ebanking__transactions (_business_date);

-- Incremental-extraction watermarks: one row per (source, table, business date), so a
-- rerun of night D starts from the watermark of the last night before D, whatever ran
-- since. watermark = latest source updated_at read up to that night (source local time).
create table if not exists ops.extract_watermark (
    source_system     text        not null,
    table_name        text        not null,
    business_date     date        not null,
    watermark         timestamp,              -- null: nothing read yet
    window_start      timestamp,              -- null: first extraction, read from the start
    window_end        timestamp   not null,   -- exclusive: the end of the business date
    batch_id          text        not null,
    rows_read         integer     not null,
    updated           timestamptz not null,
    primary key (source_system, table_name, business_date)
);
