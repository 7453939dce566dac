{#-
    A table, built incrementally (rebuild_window): the lending marts read it, and as a
    view each of them re-read every region snapshot of the history.
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
{%- set window = rebuild_window() -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

region_versions as (
    select * from {{ ref('int_regions_versioned') }}
    where {{ in_window(window, 'valid_from_date') }}
),

-- Each loaded business date with every village of that day's region snapshot, so a
-- village's town is the one in force on the date. The business dates are the region
-- batches' dates (int_business_dates), so every date has a snapshot of its own.
final as (
    select
        business_dates.business_date,
        region_versions.village_code,
        region_versions.village_name,
        region_versions.is_community,
        region_versions.town_code,
        region_versions.town_name,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from business_dates
    inner join region_versions
        on business_dates.business_date = region_versions.valid_from_date
)

select * from final
