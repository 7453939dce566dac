{#-
    A table, built incrementally: K19 and the tests of int_subsidy_credits read the latest
    result of every roster row of the history, and as a view each of them re-ranked every
    return row of five years (0.8 s a read at scale 0.1, six reads a night, growing daily).
    A night ranks again the rows of the rosters (batch_no) int_subsidy_roster_changes names
    since the last build, through the raw key index, and replaces those rosters' rows. A
    roster left with no return row (its file withdrawn by loading its date again) is named
    by a placeholder row (seq_no null): `replace_keys` deletes its rows and inserts no
    placeholder. int_subsidy_village_days finds a night's credits by credit date and the
    earlier credits of their recipients by beneficiary.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_keys',
        unique_key='batch_no',
        placeholder_where='seq_no is null',
        on_schema_change='fail',
        indexes=[
            {'columns': ['batch_no', 'seq_no'], 'unique': true},
            {'columns': ['business_date']},
            {'columns': ['built_from_loaded_at']},
            {'columns': ['credit_date']},
            {'columns': ['beneficiary_id_hash']},
        ],
    )
}}

with

subsidy_returns as (
    select * from {{ ref('stg_agency__subsidy_returns') }}
),

roster_changes as (
    select * from {{ ref('int_subsidy_roster_changes') }}
),

{% if is_incremental() %}
-- The rosters changed since the last build, and every return of theirs, whatever its
-- delivery date.
touched_batches as (
    select batch_no, built_from_loaded_at
    from roster_changes
    where built_from_loaded_at > {{ built_watermark() }}
),

returns_to_rank as (
    select * from subsidy_returns
    where batch_no = any(array(select batch_no from touched_batches))
),
{% else %}
touched_batches as (
    select batch_no, built_from_loaded_at
    from roster_changes
),

returns_to_rank as (
    select * from subsidy_returns
),
{% endif %}

-- A roster row is credited once; should a return file ever be loaded on two dates, the
-- later delivery is the bank's final word on that row.
latest_results as (
    select
        *,
        row_number() over (
            partition by batch_no, seq_no
            order by business_date desc, line_number desc
        ) as result_rank
    from returns_to_rank
),

-- In a nightly build, a touched roster without any return row keeps one placeholder row
-- (the left join's nulls); a full build holds the rosters of raw only.
final as (
    select
        touched_batches.batch_no::text as batch_no,
        latest_results.seq_no::integer as seq_no,
        latest_results.item_code::text as item_code,
        (latest_results.item_code in ('NY01', 'NY02'))::boolean as is_agricultural_item,
        latest_results.is_credited::boolean as is_credited,
        latest_results.credit_date::date as credit_date,
        latest_results.village_code::text as village_code,
        latest_results.beneficiary_id_hash::text as beneficiary_id_hash,
        latest_results.account_bin::text as account_bin,
        latest_results.is_own_bank_account::boolean as is_own_bank_account,
        latest_results.amount::numeric(18, 2) as amount,
        latest_results.business_date::date as business_date,
        latest_results.loaded_at::timestamptz as source_loaded_at,
        touched_batches.built_from_loaded_at::timestamptz as built_from_loaded_at
    from touched_batches
    {{ 'left join' if is_incremental() else 'inner join' }} latest_results
        on latest_results.batch_no = touched_batches.batch_no
        and latest_results.result_rank = 1
)

select * from final
