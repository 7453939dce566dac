-- dim_region (SCD2) and the daily facts agree: on every business date each village of
-- fct_village_coverage_daily falls in exactly one dim_region version, and that version
-- carries the town in force that day (the town whose code changed in 2017/2019 included).
with

coverage as (
    select * from {{ tested_rows(ref('fct_village_coverage_daily')) }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

matches as (
    select
        coverage.business_date,
        coverage.village_code,
        coverage.town_code as daily_town_code,
        count(regions.region_key) as versions,
        min(regions.town_code) as dim_town_code,
        min(regions.registered_population) as dim_population,
        min(coverage.registered_population) as daily_population
    from coverage
    left join regions
        on coverage.village_code = regions.village_code
        and coverage.business_date >= regions.valid_from_date
        and (regions.valid_to_date is null or coverage.business_date < regions.valid_to_date)
    group by coverage.business_date, coverage.village_code, coverage.town_code
)

select * from matches
where versions <> 1
    or dim_town_code <> daily_town_code
    or dim_population is distinct from daily_population
