{#-
    A table, built incrementally (rebuild_window): the network marts and the indicators
    read it, and as a view each of them re-read every outlet and terminal snapshot.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        on_schema_change='fail',
        indexes=[
            {'columns': ['business_date', 'service_point_id'], 'unique': true},
            {'columns': ['service_point_id', 'business_date']},
            {'columns': ['built_from_loaded_at']},
        ],
    )
}}
{%- set window = rebuild_window() -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

outlets as (
    select * from {{ ref('stg_core_banking__outlets') }}
    where {{ snapshots_in_force_from(ref('stg_core_banking__outlets'), window['from_date']) }}
),

-- Every outlet batch: an outlet's latest type, also for one missing from the window.
all_outlets as (
    select * from {{ ref('stg_core_banking__outlets') }}
),

terminals as (
    select * from {{ ref('stg_core_banking__terminals') }}
    where {{ snapshots_in_force_from(ref('stg_core_banking__terminals'), window['from_date']) }}
),

-- Each outlet or terminal batch is a full snapshot, in force from its business date until
-- the next batch of the same table: a day without a batch reads the latest one before it.
outlet_snapshot_on_day as (
    select
        business_dates.business_date,
        max(snapshots.business_date) as snapshot_date
    from business_dates
    inner join (select distinct business_date from outlets) as snapshots
        on snapshots.business_date <= business_dates.business_date
    group by business_dates.business_date
),

terminal_snapshot_on_day as (
    select
        business_dates.business_date,
        max(snapshots.business_date) as snapshot_date
    from business_dates
    inner join (select distinct business_date from terminals) as snapshots
        on snapshots.business_date <= business_dates.business_date
    group by business_dates.business_date
),

-- An outlet's type never changes; a terminal of type 4 belonging to a station is the
-- station's own terminal, any other type-4 terminal is an agent point (助农取款点) in a
-- village shop, managed by the outlet serving the town.
outlet_types as (
    select distinct on (outlet_code)
        outlet_code,
        outlet_type
    from all_outlets
    order by outlet_code, business_date desc
),

outlet_days as (
    select
        outlet_snapshot_on_day.business_date,
        outlets.outlet_code as service_point_id,
        'outlet' as service_point_source,
        case outlets.outlet_type
            when '1' then 'head_office'
            when '2' then 'sub_branch'
            when '3' then 'sub_office'
            when '4' then 'village_station'
            when '5' then 'community_point'
            when '6' then 'self_service_site'
        end as service_point_kind,
        outlets.outlet_type,
        null::text as terminal_type,
        outlets.outlet_code,
        outlets.village_code,
        outlets.opened_date,
        outlets.closed_date,
        outlets.service_count,
        outlets.batch_id
    from outlet_snapshot_on_day
    inner join outlets
        on outlet_snapshot_on_day.snapshot_date = outlets.business_date
),

terminal_days as (
    select
        terminal_snapshot_on_day.business_date,
        terminals.terminal_id as service_point_id,
        'terminal' as service_point_source,
        case
            when terminals.terminal_type = '1' then 'atm'
            when terminals.terminal_type = '2' then 'crs'
            when terminals.terminal_type = '3' then 'kiosk'
            when outlet_types.outlet_type = '4' then 'station_terminal'
            else 'agent_terminal'
        end as service_point_kind,
        null::text as outlet_type,
        terminals.terminal_type,
        terminals.outlet_code,
        terminals.village_code,
        terminals.installed_date as opened_date,
        terminals.removed_date as closed_date,
        null::integer as service_count,
        terminals.batch_id
    from terminal_snapshot_on_day
    inner join terminals
        on terminal_snapshot_on_day.snapshot_date = terminals.business_date
    left join outlet_types
        on terminals.outlet_code = outlet_types.outlet_code
),

unioned as (
    select * from outlet_days
    union all
    select * from terminal_days
),

final as (
    select
        business_date,
        service_point_id,
        service_point_source,
        service_point_kind,
        outlet_type,
        terminal_type,
        outlet_code,
        village_code,
        opened_date,
        closed_date,
        opened_date <= business_date
        and (closed_date is null or closed_date > business_date) as is_open,
        service_count,
        batch_id,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from unioned
)

select * from final
