-- Load metadata as per-batch constants, not per-row text in the COPY stream.
--
-- Every raw table keeps its four metadata columns (_batch_id, _business_date, _source_file,
-- _loaded_at: dbt reads them), but the loader no longer sends them with every row: they
-- default to the batch's values, which the load transaction sets with
-- set_config('puhui.<name>', value, true). Sending them cost the server about a third of
-- the journal's COPY time (a 40-character batch id, a 60-character path and a timestamp
-- parsed on each of half a million rows) and the client as much again to render them.
--
-- The functions are declared immutable although they read a setting: PostgreSQL then
-- evaluates a default once, when the COPY statement is planned, instead of once per row.
-- That is exactly the intended meaning (one value per load statement), and defaults are
-- planned afresh for every COPY or INSERT. Do not call them in views or cached plans.
-- Outside a load the setting is unset: the functions return null and the not-null
-- columns refuse the row, so nothing reaches raw without its batch's provenance.
create or replace function ops.load_text(setting text) returns text
    language sql immutable parallel safe
    as $$ select nullif(current_setting(setting, true), '') $$;

create or replace function ops.load_date(setting text) returns date
    language sql immutable parallel safe
    as $$ select nullif(current_setting(setting, true), '')::date $$;

create or replace function ops.load_timestamptz(setting text) returns timestamptz
    language sql immutable parallel safe
    as $$ select nullif(current_setting(setting, true), '')::timestamptz $$;

-- Set the defaults on every raw table that has the metadata columns, once: an ALTER takes
-- an exclusive lock, so tables that already have them are left alone.
do $$
declare
    col record;
begin
    for col in
        select c.oid::regclass as tbl, a.attname as name
        from pg_class as c
        join pg_namespace as n on n.oid = c.relnamespace
        join pg_attribute as a on a.attrelid = c.oid and not a.attisdropped
        left join pg_attrdef as d on d.adrelid = c.oid and d.adnum = a.attnum
        where n.nspname = 'raw'
          and c.relkind in ('r', 'p')
          and a.attname in ('_batch_id', '_business_date', '_source_file', '_loaded_at')
          and d.oid is null
    loop
        execute format(
            'alter table %s alter column %I set default %s',
            col.tbl,
            col.name,
            case col.name
                when '_business_date' then 'ops.load_date(''puhui.business_date'')'
                when '_loaded_at' then 'ops.load_timestamptz(''puhui.loaded_at'')'
                when '_batch_id' then 'ops.load_text(''puhui.batch_id'')'
                else 'ops.load_text(''puhui.source_file'')'
            end
        );
    end loop;
end
$$;
