{%- set window = rebuild_window() -%}

with

household_versions as (
    select * from {{ ref('int_households_versioned') }}
),

archive_versions as (
    select * from {{ ref('int_archives_versioned') }}
),

region_versions as (
    select * from {{ ref('int_regions_versioned') }}
),

-- The KPI's days are the business dates for which core banking was loaded. The region
-- table is a full snapshot every day, so a day whose household and archive batches were
-- empty (no changes) still has a row; each batch starts a version at its business date.
business_dates as (
    select valid_from_date as business_date from household_versions
    where {{ in_window(window, 'valid_from_date') }}
    union
    select valid_from_date from archive_versions
    where {{ in_window(window, 'valid_from_date') }}
    union
    select valid_from_date from region_versions
    where {{ in_window(window, 'valid_from_date') }}
),

households_in_scope as (
    select
        business_dates.business_date,
        household_versions.household_id,
        household_versions.village_code
    from business_dates
    inner join household_versions
        on business_dates.business_date >= household_versions.valid_from_date
        and (
            household_versions.valid_to_date is null
            or business_dates.business_date < household_versions.valid_to_date
        )
    where household_versions.register_date <= business_dates.business_date
        and (
            household_versions.cancel_date is null
            or household_versions.cancel_date > business_dates.business_date
        )
),

archived_households as (
    select distinct
        business_dates.business_date,
        archive_versions.household_id
    from business_dates
    inner join archive_versions
        on business_dates.business_date >= archive_versions.valid_from_date
        and (
            archive_versions.valid_to_date is null
            or business_dates.business_date < archive_versions.valid_to_date
        )
    where archive_versions.is_active_archive
        and archive_versions.archive_date <= business_dates.business_date
),

household_days as (
    select
        households_in_scope.business_date,
        households_in_scope.household_id,
        households_in_scope.village_code,
        archived_households.household_id is not null as is_archived
    from households_in_scope
    left join archived_households
        on households_in_scope.business_date = archived_households.business_date
        and households_in_scope.household_id = archived_households.household_id
),

-- The region snapshot in force on each day (that day's batch, else the latest before).
villages_on_day as (
    select
        business_dates.business_date,
        region_versions.village_code,
        region_versions.village_name,
        region_versions.town_code,
        region_versions.town_name
    from business_dates
    inner join region_versions
        on business_dates.business_date >= region_versions.valid_from_date
        and (
            region_versions.valid_to_date is null
            or business_dates.business_date < region_versions.valid_to_date
        )
),

village_counts as (
    select
        business_date,
        village_code,
        count(*) as households_in_scope,
        count(*) filter (where is_archived) as archived_households
    from household_days
    group by business_date, village_code
),

-- Every village of the day's snapshot gets a row, also one without households in scope.
village_rows as (
    select
        villages_on_day.business_date,
        'village' as region_level,
        villages_on_day.village_code as region_code,
        villages_on_day.village_name as region_name,
        villages_on_day.town_code,
        villages_on_day.town_name,
        coalesce(village_counts.households_in_scope, 0) as households_in_scope,
        coalesce(village_counts.archived_households, 0) as archived_households
    from villages_on_day
    left join village_counts
        on villages_on_day.business_date = village_counts.business_date
        and villages_on_day.village_code = village_counts.village_code
),

town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        sum(households_in_scope) as households_in_scope,
        sum(archived_households) as archived_households
    from village_rows
    group by business_date, town_code, town_name
),

-- The district counts every household in scope, also one whose village is missing from
-- the region snapshot; assert_kpi_k09_levels_reconcile flags such a gap.
district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        count(household_days.household_id) as households_in_scope,
        count(*) filter (where household_days.is_archived) as archived_households
    from business_dates
    left join household_days
        on business_dates.business_date = household_days.business_date
    group by business_dates.business_date
),

all_rows as (
    select * from district_rows
    union all
    select * from town_rows
    union all
    select * from village_rows
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        households_in_scope::integer as households_in_scope,
        archived_households::integer as archived_households,
        (
            archived_households::numeric / nullif(households_in_scope, 0)
        )::numeric(9, 6) as archiving_rate,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
