{#-
    A table, built incrementally: K19 and the tests of int_subsidy_credits read the latest
    result of every roster row of the history, and as a view each of them re-ranked every
    return row of five years (0.8 s a read at scale 0.1, six reads a night, growing daily).
    A night re-ranks the rows of the rosters (batch_no) that returns loaded since the
    last build touch, found through the raw key index, and replaces those rosters' rows.
    int_subsidy_village_days finds a night's credits by credit date and the earlier credits
    of their recipients by beneficiary.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='batch_no',
        on_schema_change='fail',
        indexes=[
            {'columns': ['batch_no', 'seq_no'], 'unique': true},
            {'columns': ['source_loaded_at']},
            {'columns': ['credit_date']},
            {'columns': ['beneficiary_id_hash']},
        ],
    )
}}

{%- set new_from = loaded_since_date('agency', 'subsidy_returns') -%}

with

subsidy_returns as (
    select * from {{ ref('stg_agency__subsidy_returns') }}
),

{% if is_incremental() %}
-- The rosters with a return loaded since the last build (the business-date index
-- narrows the scan to the batches loaded since; see loaded_since_date).
touched_batches as (
    select distinct batch_no
    from subsidy_returns
    where business_date >= '{{ new_from }}'::date
        and loaded_at > (select coalesce(max(source_loaded_at), '-infinity') from {{ this }})
),

-- Every return of those rosters, whatever its delivery date, through the key index.
returns_to_rank as (
    select * from subsidy_returns
    where batch_no = any(array(select batch_no from touched_batches))
),
{% else %}
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

final as (
    select
        batch_no::text as batch_no,
        seq_no::integer as seq_no,
        item_code::text as item_code,
        (item_code in ('NY01', 'NY02'))::boolean as is_agricultural_item,
        is_credited::boolean as is_credited,
        credit_date::date as credit_date,
        village_code::text as village_code,
        beneficiary_id_hash::text as beneficiary_id_hash,
        account_bin::text as account_bin,
        is_own_bank_account::boolean as is_own_bank_account,
        amount::numeric(18, 2) as amount,
        business_date::date as business_date,
        loaded_at::timestamptz as source_loaded_at
    from latest_results
    where result_rank = 1
)

select * from final
