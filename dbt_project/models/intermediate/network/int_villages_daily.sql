{#-
    A table, built incrementally (rebuild_window): the network marts read it, and as a
    view each of them re-read every region snapshot of the history. A division register
    applies from its statistical date, which may precede its delivery.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        on_schema_change='fail',
        indexes=[
            {'columns': ['business_date', 'village_code'], 'unique': true},
            {'columns': ['built_from_loaded_at']},
        ],
    )
}}
{%- set window = rebuild_window(news=[division_register_news()]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

region_versions as (
    select * from {{ ref('int_regions_versioned') }}
    where {{ in_window(window, 'valid_from_date') }}
),

register_versions as (
    select * from {{ ref('int_division_register_versioned') }}
),

-- The region snapshot in force on each business date is that day's own batch: the
-- business dates are the region batches' dates (int_business_dates).
region_snapshot_on_day as (
    select
        business_date,
        business_date as snapshot_date
    from business_dates
),

register_snapshots as (
    select distinct stat_date, valid_from_date, valid_to_date
    from register_versions
),

register_on_day as (
    select
        business_dates.business_date,
        register_snapshots.stat_date
    from business_dates
    inner join register_snapshots
        on (
            register_snapshots.valid_from_date is null
            or register_snapshots.valid_from_date <= business_dates.business_date
        )
        and (
            register_snapshots.valid_to_date is null
            or business_dates.business_date < register_snapshots.valid_to_date
        )
),

final as (
    select
        region_snapshot_on_day.business_date,
        region_versions.village_code,
        region_versions.village_name,
        region_versions.village_type,
        region_versions.is_community,
        region_versions.urban_rural_code,
        region_versions.town_code,
        region_versions.town_name,
        region_versions.town_type,
        region_versions.effective_date as town_effective_date,
        region_snapshot_on_day.snapshot_date as region_snapshot_date,
        register_versions.stat_date as population_stat_date,
        register_versions.registered_households,
        register_versions.registered_population,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from region_snapshot_on_day
    inner join region_versions
        on region_snapshot_on_day.snapshot_date = region_versions.valid_from_date
    left join register_on_day
        on region_snapshot_on_day.business_date = register_on_day.business_date
    left join register_versions
        on register_on_day.stat_date = register_versions.stat_date
        and region_versions.village_code = register_versions.village_code
)

select * from final
