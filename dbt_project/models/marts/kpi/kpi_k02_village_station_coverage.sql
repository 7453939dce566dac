{#- Also the days fct_village_coverage_daily rewrote (a late division register). -#}
{%- set window = rebuild_window(upstream=['fct_village_coverage_daily']) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

coverage as (
    select * from {{ ref('fct_village_coverage_daily') }}
    where {{ in_window(window) }}
),

town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        count(*) filter (where is_administrative_village) as administrative_villages,
        count(*) filter (where is_station_coverage_scope) as villages_in_scope,
        count(*) filter (
            where is_station_coverage_scope and has_station
        ) as villages_in_scope_with_station,
        count(*) filter (where is_administrative_village and has_station) as villages_with_station
    from coverage
    group by business_date, town_code, town_name
),

district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        count(*) filter (where coverage.is_administrative_village) as administrative_villages,
        count(*) filter (where coverage.is_station_coverage_scope) as villages_in_scope,
        count(*) filter (
            where coverage.is_station_coverage_scope and coverage.has_station
        ) as villages_in_scope_with_station,
        count(*) filter (
            where coverage.is_administrative_village and coverage.has_station
        ) as villages_with_station
    from business_dates
    left join coverage
        on business_dates.business_date = coverage.business_date
    group by business_dates.business_date
),

all_rows as (
    select * from district_rows
    union all
    select * from town_rows
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        (200 * {{ var('puhui_scale', 1) }})::numeric(12, 2) as population_threshold,
        administrative_villages::integer as administrative_villages,
        villages_in_scope::integer as villages_in_scope,
        villages_in_scope_with_station::integer as villages_in_scope_with_station,
        villages_with_station::integer as villages_with_station,
        (
            villages_in_scope_with_station::numeric / nullif(villages_in_scope, 0)
        )::numeric(9, 6) as station_coverage,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
