with

business_dates as (
    select * from {{ ref('int_business_dates') }}
),

region_versions as (
    select * from {{ ref('int_regions_versioned') }}
),

-- The region snapshot in force on each business date: that day's batch, else the latest
-- batch before it. Resolved on the few snapshot dates first, so the villages join on
-- equality rather than on a date range.
snapshot_dates as (
    select distinct valid_from_date as snapshot_date
    from region_versions
),

snapshot_in_force as (
    select
        business_dates.business_date,
        max(snapshot_dates.snapshot_date) as snapshot_date
    from business_dates
    inner join snapshot_dates
        on snapshot_dates.snapshot_date <= business_dates.business_date
    group by business_dates.business_date
),

-- Each loaded business date with every village of that snapshot, so a village's town is
-- the one in force on the date.
final as (
    select
        snapshot_in_force.business_date,
        region_versions.village_code,
        region_versions.village_name,
        region_versions.is_community,
        region_versions.town_code,
        region_versions.town_name
    from snapshot_in_force
    inner join region_versions
        on snapshot_in_force.snapshot_date = region_versions.valid_from_date
)

select * from final
