-- K02, K11, K12, K20: on every business date the towns add up to the district. A gap
-- means a village or station outside the region snapshot in force.
with

k02 as (
    select
        business_date,
        region_level,
        villages_in_scope as a,
        villages_in_scope_with_station as b
    from {{ tested_rows(ref('kpi_k02_village_station_coverage')) }}
),

k11 as (
    select
        business_date,
        region_level,
        administrative_villages as a,
        unserved_villages as b
    from {{ tested_rows(ref('kpi_k11_unserved_villages')) }}
),

k12 as (
    select
        business_date,
        region_level,
        communities as a,
        communities_with_point as b
    from {{ tested_rows(ref('kpi_k12_community_coverage')) }}
),

k20 as (
    select
        business_date,
        region_level,
        open_stations as a,
        services_offered as b
    from {{ tested_rows(ref('kpi_k20_station_services')) }}
),

all_kpis as (
    select 'K02' as kpi_id, * from k02
    union all
    select 'K11', * from k11
    union all
    select 'K12', * from k12
    union all
    select 'K20', * from k20
),

by_level as (
    select
        kpi_id,
        business_date,
        sum(a) filter (where region_level = 'district') as district_a,
        coalesce(sum(a) filter (where region_level = 'town'), 0) as towns_a,
        sum(b) filter (where region_level = 'district') as district_b,
        coalesce(sum(b) filter (where region_level = 'town'), 0) as towns_b
    from all_kpis
    group by kpi_id, business_date
)

select * from by_level
where district_a <> towns_a
    or district_b <> towns_b
