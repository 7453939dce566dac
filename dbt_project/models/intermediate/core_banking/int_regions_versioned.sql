{#-
    A table, built incrementally (rebuild_window on valid_from_date): the network and KPI
    marts read it, and rebuilt in full every night it re-read every region snapshot of the
    history (2.9 s a night at the end of five years at scale 0.01, growing daily). A night
    rebuilds the snapshots from the one before its window on: that snapshot's interval
    ends at the window's first new snapshot, so its rows change too.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        rebuild_date_column='valid_from_date',
        on_schema_change='fail',
        indexes=[
            {'columns': ['village_code', 'valid_from_date']},
            {'columns': ['valid_from_date']},
            {'columns': ['built_from_loaded_at']},
        ],
    )
}}
{%- set window = rebuild_window() -%}
{%- set rebuilt = from_snapshot_before_window(window, ref('int_business_dates')) -%}

with

regions as (
    select * from {{ ref('stg_core_banking__regions') }}
    where {{ rebuilt }}
),

business_dates as (
    select * from {{ ref('int_business_dates') }}
),

-- Each region batch is a full snapshot: it is in force from its business date until the
-- next region batch, so a day without a batch falls back to the latest batch before it,
-- and a village missing from a later snapshot stops being valid there.
-- The snapshot dates are the business dates (int_business_dates lists the region batches'
-- dates, a small table): reading them there rather than from every region row lets a
-- filter on valid_from_date reach the region rows' business_date index.
snapshots as (
    select business_date
    from business_dates
    where {{ rebuilt }}
),

snapshot_intervals as (
    select
        business_date,
        lead(business_date) over (order by business_date) as next_business_date
    from snapshots
),

final as (
    select
        regions.village_code,
        regions.business_date as valid_from_date,
        snapshot_intervals.next_business_date as valid_to_date,
        snapshot_intervals.next_business_date is null as is_current_version,
        regions.village_name,
        regions.village_type,
        regions.is_community,
        regions.town_code,
        regions.town_name,
        regions.town_type,
        regions.urban_rural_code,
        regions.effective_date,
        regions.batch_id,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from regions
    inner join snapshot_intervals
        on regions.business_date = snapshot_intervals.business_date
)

select * from final
