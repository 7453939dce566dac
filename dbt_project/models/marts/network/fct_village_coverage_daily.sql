{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        on_schema_change='fail',
        indexes=[{'columns': ['built_from_loaded_at']}],
    )
}}
{#-
    Each day is rebuilt from its own snapshots; a division register applies from its
    statistical date (the first one also before it), which may precede its delivery.
-#}
{%- set window = rebuild_window(news=[division_register_news()]) -%}

with

villages_daily as (
    select * from {{ ref('int_villages_daily') }}
    where {{ in_window(window) }}
),

service_points_daily as (
    select * from {{ ref('int_service_points_daily') }}
    where {{ in_window(window) }}
),

open_points_by_village as (
    select
        business_date,
        village_code,
        count(*) filter (where service_point_kind = 'village_station') as open_stations,
        coalesce(
            sum(service_count) filter (where service_point_kind = 'village_station'), 0
        ) as station_services,
        count(*) filter (where service_point_kind = 'community_point') as open_community_points,
        count(*) filter (
            where service_point_kind = 'self_service_site'
        ) as open_self_service_sites,
        count(*) filter (where service_point_kind = 'station_terminal') as station_terminals,
        count(*) filter (where service_point_kind = 'agent_terminal') as agent_terminals,
        count(*) filter (
            where service_point_kind in ('atm', 'crs', 'kiosk')
        ) as self_service_terminals
    from service_points_daily
    where is_open
        and village_code is not null
    group by business_date, village_code
),

joined as (
    select
        villages_daily.*,
        -- K02's "200 residents" is an absolute count: the synthetic county at scale s has
        -- s times the real population, so the threshold scales with it.
        (200 * {{ var('puhui_scale', 1) }})::numeric as population_threshold,
        coalesce(open_points_by_village.open_stations, 0) as open_stations,
        coalesce(open_points_by_village.station_services, 0) as station_services,
        coalesce(open_points_by_village.open_community_points, 0) as open_community_points,
        coalesce(open_points_by_village.open_self_service_sites, 0) as open_self_service_sites,
        coalesce(open_points_by_village.station_terminals, 0) as station_terminals,
        coalesce(open_points_by_village.agent_terminals, 0) as agent_terminals,
        coalesce(open_points_by_village.self_service_terminals, 0) as self_service_terminals
    from villages_daily
    left join open_points_by_village
        on villages_daily.business_date = open_points_by_village.business_date
        and villages_daily.village_code = open_points_by_village.village_code
),

flags as (
    select
        *,
        not is_community as is_administrative_village,
        open_stations > 0 as has_station,
        open_community_points > 0 as has_community_point,
        open_self_service_sites > 0 as has_self_service_site,
        agent_terminals > 0 as has_agent_terminal,
        self_service_terminals > 0 as has_self_service_terminal,
        (
            open_stations + open_community_points + open_self_service_sites
            + station_terminals + agent_terminals + self_service_terminals
        ) > 0 as has_any_service
    from joined
),

final as (
    select
        business_date::date as business_date,
        village_code::text as village_code,
        village_name::text as village_name,
        village_type::text as village_type,
        is_community::boolean as is_community,
        is_administrative_village::boolean as is_administrative_village,
        urban_rural_code::text as urban_rural_code,
        town_code::text as town_code,
        town_name::text as town_name,
        town_type::text as town_type,
        population_stat_date::date as population_stat_date,
        registered_households::integer as registered_households,
        registered_population::integer as registered_population,
        population_threshold::numeric(12, 2) as population_threshold,
        (
            is_administrative_village
            and coalesce(registered_population >= population_threshold, false)
        )::boolean as is_station_coverage_scope,
        open_stations::integer as open_stations,
        station_services::integer as station_services,
        open_community_points::integer as open_community_points,
        open_self_service_sites::integer as open_self_service_sites,
        station_terminals::integer as station_terminals,
        agent_terminals::integer as agent_terminals,
        self_service_terminals::integer as self_service_terminals,
        has_station::boolean as has_station,
        has_community_point::boolean as has_community_point,
        has_self_service_site::boolean as has_self_service_site,
        has_agent_terminal::boolean as has_agent_terminal,
        has_self_service_terminal::boolean as has_self_service_terminal,
        has_any_service::boolean as has_any_service,
        (is_administrative_village and not has_any_service)::boolean as is_unserved_village,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from flags
)

select * from final
