{#-
    A table, built incrementally (rebuild_window): five marts and three tests read it
    every night, and as a view each read found the snapshot in force by ranking every
    outlet row of the history (0.3-0.6 s a read at the end of five years, whatever the
    scale: the outlets do not grow with it). A night rebuilds its window's dates from the
    outlet snapshot in force on the window's first date on.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        on_schema_change='fail',
        indexes=[
            {'columns': ['business_date', 'branch_code'], 'unique': true},
            {'columns': ['built_from_loaded_at']},
        ],
    )
}}
{%- set window = rebuild_window() -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

outlets as (
    select * from {{ ref('stg_core_banking__outlets') }}
    where {{ from_snapshot_before_window(window, ref('stg_core_banking__outlets')) }}
),

-- The outlet table is a full snapshot every night: a snapshot is in force from its
-- business date until the next outlet batch, so a day without one uses the latest before.
snapshots as (
    select
        business_date,
        lead(business_date) over (order by business_date) as next_business_date
    from (select distinct business_date from outlets) as snapshot_dates
),

final as (
    select
        business_dates.business_date::date as business_date,
        outlets.outlet_code::text as branch_code,
        outlets.outlet_name::text as branch_name,
        outlets.town_code::text as town_code,
        outlets.town_name::text as town_name,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from business_dates
    inner join snapshots
        on business_dates.business_date >= snapshots.business_date
        and (
            snapshots.next_business_date is null
            or business_dates.business_date < snapshots.next_business_date
        )
    inner join outlets
        on snapshots.business_date = outlets.business_date
)

select * from final
