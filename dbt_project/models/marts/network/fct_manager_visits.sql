{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_dates',
        on_schema_change='fail',
        indexes=[{'columns': ['source_loaded_at']}],
    )
}}

with

visits as (
    select * from {{ ref('stg_core_banking__visits') }}
    {% if is_incremental() %}
    -- Only batches loaded since the last run; a reloaded date replaces its rows.
    where loaded_at > (
        select coalesce(max(source_loaded_at), '-infinity'::timestamptz) from {{ this }}
    )
    {% endif %}
),

managers as (
    select * from {{ ref('stg_core_banking__managers') }}
),

villages_daily as (
    select * from {{ ref('int_villages_daily') }}
),

deduplicated as (
    select distinct on (visit_id) *
    from visits
    order by visit_id, loaded_at desc, line_number desc
),

final as (
    select
        deduplicated.visit_id::text as visit_id,
        deduplicated.visit_date::date as visit_date,
        date_trunc('week', deduplicated.visit_date)::date as week_start_date,
        deduplicated.manager_no::text as manager_no,
        (grid.manager_no is not null)::boolean as is_grid_manager,
        deduplicated.village_code::text as village_code,
        villages_daily.village_name::text as village_name,
        villages_daily.is_community::boolean as is_community,
        villages_daily.town_code::text as town_code,
        villages_daily.town_name::text as town_name,
        deduplicated.purpose_code::text as purpose_code,
        (
            case deduplicated.purpose_code
                when '01' then '走访建档'
                when '02' then '授信评级'
                when '03' then '金融知识宣传'
                when '04' then '驿站巡检'
                when '05' then '贷后检查'
                when '06' then '代理业务宣传'
            end
        )::text as purpose_name,
        deduplicated.households_visited::integer as households_visited,
        deduplicated.business_date::date as business_date,
        deduplicated.batch_id::text as batch_id,
        deduplicated.loaded_at::timestamptz as source_loaded_at
    from deduplicated
    left join villages_daily
        on deduplicated.visit_date = villages_daily.business_date
        and deduplicated.village_code = villages_daily.village_code
    left join managers as grid
        on deduplicated.business_date = grid.business_date
        and deduplicated.village_code = grid.village_code
        and deduplicated.manager_no = grid.manager_no
)

select * from final
