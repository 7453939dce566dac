-- K01 and K10 are sums since 2016-01-01 of non-negative flows: at the district level they
-- can only grow from one business date to the next.
with

k01 as (
    select
        'K01' as kpi_id,
        business_date,
        cumulative_amount as value
    from {{ tested_rows(ref('kpi_k01_inclusion_investment'), lookback_days=7) }}
    where region_level = 'district'
),

k10 as (
    select
        'K10' as kpi_id,
        business_date,
        events::numeric as value
    from {{ tested_rows(ref('kpi_k10_literacy_events'), lookback_days=7) }}
    where region_level = 'district'
),

series as (
    select
        *,
        lag(value) over (partition by kpi_id order by business_date) as previous_value
    from (
        select * from k01
        union all
        select * from k10
    ) as both_kpis
)

select * from series
where value < previous_value
