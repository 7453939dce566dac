with

events as (
    select * from {{ ref('stg_agency__literacy_events') }}
),

region_versions as (
    select * from {{ ref('int_regions_versioned') }}
),

-- A re-sent export carries the same events: each event counts once, as last delivered.
deduplicated as (
    select distinct on (event_id) *
    from events
    order by event_id, loaded_at desc, line_number desc
),

-- The village's type from the region table (latest snapshot listing it).
village_types as (
    select distinct on (village_code)
        village_code,
        is_community
    from region_versions
    order by village_code, valid_from_date desc
),

final as (
    select
        deduplicated.event_id::text as event_id,
        deduplicated.event_date::date as event_date,
        deduplicated.village_code::text as village_code,
        deduplicated.village_name::text as village_name,
        village_types.is_community::boolean as is_community,
        deduplicated.town_code::text as town_code_at_event,
        deduplicated.topic::text as topic,
        deduplicated.organiser::text as organiser,
        deduplicated.participants::integer as participants,
        (deduplicated.event_date >= date '2016-01-01')::boolean as is_plan_period,
        deduplicated.business_date::date as delivered_date,
        deduplicated.batch_id::text as batch_id
    from deduplicated
    left join village_types
        on deduplicated.village_code = village_types.village_code
)

select * from final
