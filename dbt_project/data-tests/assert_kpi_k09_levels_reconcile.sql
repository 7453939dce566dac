-- K09: on every business date the villages add up to their towns and to the district,
-- and the towns add up to the district. A gap means households in villages missing
-- from the region snapshot in force.
with

kpi as (
    select * from {{ tested_rows(ref('kpi_k09_archiving_rate')) }}
),

district as (
    select
        business_date,
        households_in_scope,
        archived_households
    from kpi
    where region_level = 'district'
),

level_sums as (
    select
        business_date,
        region_level,
        sum(households_in_scope) as households_in_scope,
        sum(archived_households) as archived_households
    from kpi
    where region_level in ('town', 'village')
    group by business_date, region_level
),

village_sums_by_town as (
    select
        business_date,
        town_code,
        sum(households_in_scope) as households_in_scope,
        sum(archived_households) as archived_households
    from kpi
    where region_level = 'village'
    group by business_date, town_code
),

level_gaps as (
    select
        district.business_date,
        coalesce(level_sums.region_level, 'town and village') as compared_level,
        null::text as town_code,
        district.households_in_scope as expected_households_in_scope,
        coalesce(level_sums.households_in_scope, 0) as actual_households_in_scope,
        district.archived_households as expected_archived_households,
        coalesce(level_sums.archived_households, 0) as actual_archived_households
    from district
    left join level_sums
        on district.business_date = level_sums.business_date
),

town_gaps as (
    select
        towns.business_date,
        'village within town' as compared_level,
        towns.region_code as town_code,
        towns.households_in_scope as expected_households_in_scope,
        coalesce(village_sums_by_town.households_in_scope, 0) as actual_households_in_scope,
        towns.archived_households as expected_archived_households,
        coalesce(village_sums_by_town.archived_households, 0) as actual_archived_households
    from kpi as towns
    left join village_sums_by_town
        on towns.business_date = village_sums_by_town.business_date
        and towns.region_code = village_sums_by_town.town_code
    where towns.region_level = 'town'
),

gaps as (
    select * from level_gaps
    union all
    select * from town_gaps
)

select * from gaps
where expected_households_in_scope <> actual_households_in_scope
    or expected_archived_households <> actual_archived_households
