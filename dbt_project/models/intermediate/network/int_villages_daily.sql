{#-
    A table, built incrementally (rebuild_window): the network marts read it, and as a
    view each of them re-read every region snapshot of the history. A division register
    applies from its statistical date, which may precede its delivery.
    Each row also says whether it starts a version of dim_region (its tracked attributes
    differ from the village's previous listed day), so dim_region reads the few starts
    instead of every village-day (6.5 s a night at the end of five years at scale 0.01).
    The previous listed day of the window's first days comes from this table's own rows
    before the window: the window starts at the earliest date anything upstream changed,
    so those rows are what a full build gives.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        on_schema_change='fail',
        indexes=[
            {'columns': ['business_date', 'village_code'], 'unique': true},
            {'columns': ['village_code', 'business_date']},
            {'columns': ['starts_version', 'village_code', 'business_date']},
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

villages as (
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
        register_versions.registered_population
    from region_snapshot_on_day
    inner join region_versions
        on region_snapshot_on_day.snapshot_date = region_versions.valid_from_date
    left join register_on_day
        on region_snapshot_on_day.business_date = register_on_day.business_date
    left join register_versions
        on register_on_day.stat_date = register_versions.stat_date
        and region_versions.village_code = register_versions.village_code
),

-- One fingerprint of everything dim_region tracks: a version starts on the first business
-- date on which any of it differs from the village's previous listed day (town code, name
-- or type after a reorganisation, a renamed village, a new population register).
fingerprinted as (
    select
        *,
        md5(concat_ws(
            '|',
            village_name, village_type, urban_rural_code, town_code, town_name, town_type,
            town_effective_date, population_stat_date, registered_households,
            registered_population
        )) as attribute_hash,
        true as is_rebuilt
    from villages
),

{% if is_incremental() and window['from_date'] is not none -%}
-- Each village's last listed day before the window, one index lookup per village.
day_before_window as (
    select
        last_day.business_date,
        last_day.village_code,
        last_day.attribute_hash,
        false as is_rebuilt
    from (select distinct village_code from villages) as rebuilt_villages
    cross join lateral (
        select business_date, village_code, attribute_hash
        from {{ this }} as earlier
        where earlier.village_code = rebuilt_villages.village_code
            and earlier.business_date < '{{ window['from_date'] }}'::date
        order by earlier.business_date desc
        limit 1
    ) as last_day
),
{%- endif %}

change_flags as (
    select
        business_date,
        village_code,
        is_rebuilt,
        lag(attribute_hash) over (
            partition by village_code order by business_date
        ) is distinct from attribute_hash as starts_version
    from (
        select business_date, village_code, attribute_hash, is_rebuilt from fingerprinted
        {%- if is_incremental() and window['from_date'] is not none %}
        union all
        select business_date, village_code, attribute_hash, is_rebuilt from day_before_window
        {%- endif %}
    ) as village_days
),

final as (
    select
        fingerprinted.business_date,
        fingerprinted.village_code,
        fingerprinted.village_name,
        fingerprinted.village_type,
        fingerprinted.is_community,
        fingerprinted.urban_rural_code,
        fingerprinted.town_code,
        fingerprinted.town_name,
        fingerprinted.town_type,
        fingerprinted.town_effective_date,
        fingerprinted.region_snapshot_date,
        fingerprinted.population_stat_date,
        fingerprinted.registered_households,
        fingerprinted.registered_population,
        fingerprinted.attribute_hash,
        change_flags.starts_version,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from fingerprinted
    inner join change_flags
        on fingerprinted.business_date = change_flags.business_date
        and fingerprinted.village_code = change_flags.village_code
        and change_flags.is_rebuilt
)

select * from final
