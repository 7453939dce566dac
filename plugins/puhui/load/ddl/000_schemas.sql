-- Schemas of the puhui warehouse, created by `puhui db init` (idempotent).
--   raw         loaded batches, one table per source entity; personal data already
--               replaced by keyed hashes and masked forms. Restricted: loader + engineers.
--   quarantine  rejected rows with the raw line and the failed rule. Holds raw personal
--               data of rejected rows, so it is the most restricted schema.
--   ops         run audit (one row per batch), readable by BI for pipeline-health charts.
--   staging / intermediate / marts are created by dbt.
create schema if not exists raw;
create schema if not exists quarantine;
create schema if not exists ops;

create table if not exists quarantine.rejected_rows (
    rejected_row_id   bigserial primary key,
    batch_id          text        not null,
    source_system     text        not null,
    table_name        text        not null,
    business_date     date        not null,
    source_file       text        not null,
    line_number       integer,
    raw_line          text,
    rule              text        not null,
    column_name       text,
    detail            text,
    quarantined_at    timestamptz not null default now()
);
create index if not exists rejected_rows_batch_idx
    on quarantine.rejected_rows (source_system, table_name, business_date);

create table if not exists ops.load_audit (
    batch_id             text        primary key,
    source_system        text        not null,
    table_name           text        not null,
    business_date        date        not null,
    source_file          text        not null,
    control_record_count integer,
    control_byte_size    bigint,
    control_md5          text,
    rows_read            integer,
    rows_loaded          integer,
    rows_quarantined     integer,
    started_at           timestamptz not null,
    finished_at          timestamptz,
    duration_seconds     numeric(12, 3),
    status               text        not null,
    error                text
);
create index if not exists load_audit_date_idx
    on ops.load_audit (source_system, table_name, business_date);
