{%- set window = rebuild_window(news=[{'model': 'stg_agency__literacy_events', 'date': 'news.event_date'}]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

events as (
    select * from {{ ref('fct_literacy_events') }}
),

villages_daily as (
    select * from {{ ref('int_villages_daily') }}
    where {{ in_window(window) }}
),

plan_events as (
    select * from events
    where is_plan_period
),

-- Each village of the day's region snapshot with the events held there from 2016-01-01
-- through the day; its town is the one in force on the day, not at the event.
village_rows as (
    select
        villages_daily.business_date,
        'village' as region_level,
        villages_daily.village_code as region_code,
        villages_daily.village_name as region_name,
        villages_daily.town_code,
        villages_daily.town_name,
        count(plan_events.event_id) as events,
        count(plan_events.event_id) filter (
            where not villages_daily.is_community
        ) as events_in_administrative_villages,
        count(plan_events.event_id) filter (
            where villages_daily.is_community
        ) as events_in_communities,
        coalesce(sum(plan_events.participants), 0) as participants
    from villages_daily
    left join plan_events
        on villages_daily.village_code = plan_events.village_code
        and plan_events.event_date <= villages_daily.business_date
    group by
        villages_daily.business_date,
        villages_daily.village_code,
        villages_daily.village_name,
        villages_daily.town_code,
        villages_daily.town_name
),

town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        sum(events) as events,
        sum(events_in_administrative_villages) as events_in_administrative_villages,
        sum(events_in_communities) as events_in_communities,
        sum(participants) as participants
    from village_rows
    group by business_date, town_code, town_name
),

-- The district counts every event, also one in a village missing from the region snapshot.
district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        count(plan_events.event_id) as events,
        count(plan_events.event_id) filter (
            where not plan_events.is_community
        ) as events_in_administrative_villages,
        count(plan_events.event_id) filter (
            where plan_events.is_community
        ) as events_in_communities,
        coalesce(sum(plan_events.participants), 0) as participants
    from business_dates
    left join plan_events
        on plan_events.event_date <= business_dates.business_date
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
        events::integer as events,
        events_in_administrative_villages::integer as events_in_administrative_villages,
        events_in_communities::integer as events_in_communities,
        participants::bigint as participants,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
