{#-
    Each point's latest row is found with a loose index scan over int_service_points_daily
    (the distinct points one index step at a time, then each one's newest day): a distinct
    on over every point-day grew with the history (3.9 s a night at the end of five years
    at scale 0.01). The relation is named in each step, not through an import CTE, which
    PostgreSQL would materialise whole because it is read more than once.
-#}

with recursive

outlets as (
    select * from {{ ref('stg_core_banking__outlets') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

point_ids as (
    (
        select service_point_id
        from {{ ref('int_service_points_daily') }}
        order by service_point_id
        limit 1
    )
    union all
    select (
        select next_point.service_point_id
        from {{ ref('int_service_points_daily') }} as next_point
        where next_point.service_point_id > point_ids.service_point_id
        order by next_point.service_point_id
        limit 1
    )
    from point_ids
    where point_ids.service_point_id is not null
),

-- Every snapshot keeps closed outlets and removed terminals, so the latest one in force
-- holds each point's whole life: opening, closing and its latest services.
latest_points as (
    select last_day.*
    from point_ids
    cross join lateral (
        select *
        from {{ ref('int_service_points_daily') }} as point_days
        where point_days.service_point_id = point_ids.service_point_id
        order by point_days.business_date desc
        limit 1
    ) as last_day
),

latest_outlets as (
    select distinct on (outlet_code)
        outlet_code,
        outlet_name,
        parent_outlet_code,
        town_code,
        town_name
    from outlets
    order by outlet_code, business_date desc
),

current_regions as (
    select * from regions
    where is_current_version
),

final as (
    select
        latest_points.service_point_id::text as service_point_id,
        latest_points.service_point_source::text as service_point_source,
        latest_points.service_point_kind::text as service_point_kind,
        (
            case latest_points.service_point_kind
                when 'head_office' then '总行营业部'
                when 'sub_branch' then '支行'
                when 'sub_office' then '分理处'
                when 'village_station' then '丰收驿站'
                when 'community_point' then '社区金融服务点'
                when 'self_service_site' then '离行式自助银行'
                when 'atm' then '自动取款机'
                when 'crs' then '存取款一体机'
                when 'kiosk' then '自助终端'
                when 'station_terminal' then '驿站助农终端'
                when 'agent_terminal' then '助农取款点'
            end
        )::text as service_point_kind_name,
        (
            latest_points.service_point_kind in ('head_office', 'sub_branch', 'sub_office')
        )::boolean as is_branch_outlet,
        (latest_points.village_code is not null)::boolean as is_in_village,
        latest_points.outlet_type::text as outlet_type,
        latest_points.terminal_type::text as terminal_type,
        latest_points.outlet_code::text as outlet_code,
        latest_outlets.outlet_name::text as outlet_name,
        (
            case
                when latest_points.service_point_source = 'outlet'
                    then latest_outlets.parent_outlet_code
            end
        )::text as parent_outlet_code,
        latest_points.village_code::text as village_code,
        current_regions.village_name::text as village_name,
        -- Points standing in a village take the village's current town; branch outlets and
        -- the terminals inside them take their outlet's town from the latest snapshot.
        coalesce(current_regions.town_code, latest_outlets.town_code)::text as town_code,
        coalesce(current_regions.town_name, latest_outlets.town_name)::text as town_name,
        latest_points.opened_date::date as opened_date,
        latest_points.closed_date::date as closed_date,
        latest_points.is_open::boolean as is_open,
        latest_points.service_count::integer as services_offered,
        latest_points.business_date::date as as_of_date
    from latest_points
    left join latest_outlets
        on latest_points.outlet_code = latest_outlets.outlet_code
    left join current_regions
        on latest_points.village_code = current_regions.village_code
)

select * from final
