{#-
    The subsidy rosters (batch_no) whose results a build must rank again, and the earliest
    credit date those results held before or hold now: int_subsidy_results replaces the
    rosters' rows, and int_subsidy_village_days and K19 rebuild from that date
    (subsidy_roster_changes). One row per roster, rewritten whenever a build touches it.

    A loaded return batch replaces every row of its delivery date, so a night touches the
    rosters of the return rows of each date loaded since the last build, and the rosters
    whose results came from such a date: a date loaded again can withdraw a roster's
    return file or change its rows, and what the earlier load said (a credit date before
    the delivery date, which the new rows do not reach) only int_subsidy_results still
    holds. This model reads it as it stood before tonight's build: int_subsidy_results
    refs this model, so it is built after.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='batch_no',
        on_schema_change='fail',
        indexes=[
            {'columns': ['batch_no'], 'unique': true},
            {'columns': ['built_from_loaded_at']},
        ],
    )
}}
{%- set loaded_at = load_watermark() -%}

with

subsidy_returns as (
    select * from {{ ref('stg_agency__subsidy_returns') }}
),

{% if is_incremental() %}
-- The delivery dates of the return batches loaded since the last build.
loaded_dates as (
    select distinct load_audit.business_date
    from {{ source('ops', 'load_audit') }} as load_audit
    where load_audit.status = 'loaded'
        and load_audit.source_system = 'agency'
        and load_audit.table_name = 'subsidy_returns'
        and load_audit.finished_at > {{ built_watermark() }}
),

new_returns as (
    select batch_no, credit_date
    from subsidy_returns
    where business_date = any(array(select business_date from loaded_dates))
),

{%- set results = adapter.get_relation(this.database, this.schema, 'int_subsidy_results') if execute else none %}
{%- if results is not none %}

-- Before tonight's build: the results from those dates, and every result of the rosters
-- the new rows belong to (through the business-date and key indexes).
earlier_results as (
    select batch_no, credit_date
    from {{ results }}
    where business_date = any(array(select business_date from loaded_dates))
        or batch_no = any(array(select distinct batch_no from new_returns))
),
{%- else %}

earlier_results as (
    select null::text as batch_no, null::date as credit_date
    where false
),
{%- endif %}

touched as (
    select * from new_returns
    union all
    select * from earlier_results
),
{% else %}
touched as (
    select batch_no, credit_date from subsidy_returns
),
{% endif %}

final as (
    select
        batch_no::text as batch_no,
        min(credit_date)::date as from_credit_date,
        {{ loaded_at }} as built_from_loaded_at
    from touched
    group by batch_no
)

select * from final
