{%- set window = rebuild_window() -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

service_points_daily as (
    select * from {{ ref('int_service_points_daily') }}
    where {{ in_window(window) }}
),

villages_daily as (
    select * from {{ ref('int_villages_daily') }}
    where {{ in_window(window) }}
),

open_stations as (
    select
        service_points_daily.business_date,
        service_points_daily.service_point_id,
        service_points_daily.service_count,
        villages_daily.town_code,
        villages_daily.town_name
    from service_points_daily
    left join villages_daily
        on service_points_daily.business_date = villages_daily.business_date
        and service_points_daily.village_code = villages_daily.village_code
    where service_points_daily.service_point_kind = 'village_station'
        and service_points_daily.is_open
),

-- Every town of the day's region snapshot gets a row, also one without an open station.
towns_on_day as (
    select distinct
        business_date,
        town_code,
        town_name
    from villages_daily
),

town_rows as (
    select
        towns_on_day.business_date,
        'town' as region_level,
        towns_on_day.town_code as region_code,
        towns_on_day.town_name as region_name,
        towns_on_day.town_code,
        towns_on_day.town_name,
        count(open_stations.service_point_id) as open_stations,
        coalesce(sum(open_stations.service_count), 0) as services_offered,
        count(*) filter (where open_stations.service_count > 20) as stations_over_20
    from towns_on_day
    left join open_stations
        on towns_on_day.business_date = open_stations.business_date
        and towns_on_day.town_code = open_stations.town_code
    group by towns_on_day.business_date, towns_on_day.town_code, towns_on_day.town_name
),

-- The district counts every open station, also one whose village is missing from the
-- region snapshot (assert_network_service_points_located flags such a gap).
district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        count(open_stations.service_point_id) as open_stations,
        coalesce(sum(open_stations.service_count), 0) as services_offered,
        count(*) filter (where open_stations.service_count > 20) as stations_over_20
    from business_dates
    left join open_stations
        on business_dates.business_date = open_stations.business_date
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
        open_stations::integer as open_stations,
        services_offered::integer as services_offered,
        stations_over_20::integer as stations_over_20,
        (stations_over_20::numeric / nullif(open_stations, 0))::numeric(9, 6) as share_over_20,
        (services_offered::numeric / nullif(open_stations, 0))::numeric(9, 4)
            as services_per_station,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
