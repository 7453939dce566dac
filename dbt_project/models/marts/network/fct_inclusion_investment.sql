{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_dates',
        on_schema_change='fail',
        indexes=[{'columns': ['source_loaded_at']}],
    )
}}

with

entries as (
    select * from {{ ref('stg_core_banking__investments') }}
    {% if is_incremental() %}
    -- Only batches loaded since the last run; a reloaded date replaces its rows.
    where loaded_at > (
        select coalesce(max(source_loaded_at), '-infinity'::timestamptz) from {{ this }}
    )
    {% endif %}
),

outlets as (
    select * from {{ ref('stg_core_banking__outlets') }}
),

deduplicated as (
    select distinct on (entry_id) *
    from entries
    order by entry_id, loaded_at desc, line_number desc
),

-- The booking outlet's town as the outlet snapshot of the entry's business date shows it.
final as (
    select
        deduplicated.entry_id::text as entry_id,
        deduplicated.entry_date::date as entry_date,
        deduplicated.category_code::text as category_code,
        deduplicated.category_name::text as category_name,
        (
            case left(deduplicated.category_code, 1)
                when '1' then 'infrastructure'
                when '2' then 'fee_waiver'
                when '3' then 'rate_concession'
            end
        )::text as category_group,
        (
            case left(deduplicated.category_code, 1)
                when '1' then '普惠基础设施投入'
                when '2' then '减费'
                when '3' then '让利'
            end
        )::text as category_group_name,
        deduplicated.outlet_code::text as outlet_code,
        outlets.outlet_name::text as outlet_name,
        outlets.town_code::text as town_code,
        outlets.town_name::text as town_name,
        deduplicated.village_code::text as village_code,
        deduplicated.amount::numeric(18, 2) as amount,
        (deduplicated.entry_date >= date '2016-01-01')::boolean as is_plan_period,
        deduplicated.business_date::date as business_date,
        deduplicated.batch_id::text as batch_id,
        deduplicated.loaded_at::timestamptz as source_loaded_at
    from deduplicated
    left join outlets
        on deduplicated.business_date = outlets.business_date
        and deduplicated.outlet_code = outlets.outlet_code
)

select * from final
