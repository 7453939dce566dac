with

business_dates as (
    select * from {{ ref('int_business_dates') }}
),

outlets as (
    select * from {{ ref('stg_core_banking__outlets') }}
),

-- The outlet table is a full snapshot every night: a snapshot is in force from its
-- business date until the next outlet batch, so a day without one uses the latest before.
snapshots as (
    select
        business_date,
        lead(business_date) over (order by business_date) as next_business_date
    from (select distinct business_date from outlets) as snapshot_dates
),

final as (
    select
        business_dates.business_date,
        outlets.outlet_code as branch_code,
        outlets.outlet_name as branch_name,
        outlets.town_code,
        outlets.town_name
    from business_dates
    inner join snapshots
        on business_dates.business_date >= snapshots.business_date
        and (
            snapshots.next_business_date is null
            or business_dates.business_date < snapshots.next_business_date
        )
    inner join outlets
        on snapshots.business_date = outlets.business_date
)

select * from final
