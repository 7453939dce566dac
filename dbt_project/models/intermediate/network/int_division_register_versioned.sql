{#- A table, not a view: see the intermediate layer's note in dbt_project.yml. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['village_code', 'stat_date']}],
    )
}}

with

registers as (
    select * from {{ ref('stg_agency__division_register') }}
),

-- A register re-sent for the same date (a partner's duplicate) counts once: the batch
-- loaded last wins.
latest_delivery as (
    select
        *,
        row_number() over (
            partition by village_code, stat_date
            order by loaded_at desc, batch_id desc, line_number desc
        ) as delivery_rank
    from registers
),

deduplicated as (
    select * from latest_delivery
    where delivery_rank = 1
),

register_dates as (
    select distinct stat_date
    from deduplicated
),

register_intervals as (
    select
        stat_date,
        lead(stat_date) over (order by stat_date) as next_stat_date,
        row_number() over (order by stat_date) = 1 as is_first_register
    from register_dates
),

final as (
    select
        deduplicated.village_code,
        deduplicated.stat_date,
        -- The earliest register also covers the days before it: the warehouse's first
        -- business date (2015-12-31) precedes the first register (1 January), whose
        -- counts describe the population at the turn of the year.
        case
            when register_intervals.is_first_register then null
            else deduplicated.stat_date
        end as valid_from_date,
        register_intervals.next_stat_date as valid_to_date,
        register_intervals.next_stat_date is null as is_current_version,
        deduplicated.village_name,
        deduplicated.division_type,
        deduplicated.is_community,
        deduplicated.urban_rural_code,
        deduplicated.town_code,
        deduplicated.town_name,
        deduplicated.town_type,
        deduplicated.registered_households,
        deduplicated.registered_population,
        deduplicated.batch_id
    from deduplicated
    inner join register_intervals
        on deduplicated.stat_date = register_intervals.stat_date
)

select * from final
