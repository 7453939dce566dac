-- K06, K07, K18: on every business date the towns add up to the district. A gap means
-- outlets (branch codes of the journal or cards) missing from the outlet snapshot.
with

k06 as (
    select business_date, region_level, enrolled_customers::numeric as measure
    from {{ tested_rows(ref('kpi_k06_ebanking_customers')) }}
),

k07 as (
    select business_date, region_level, financial_txns_mtd::numeric as measure
    from {{ tested_rows(ref('kpi_k07_ebanking_substitution')) }}
),

k18 as (
    select business_date, region_level, outflow_amount_mtd as measure
    from {{ tested_rows(ref('kpi_k18_card_closed_loop')) }}
),

k19 as (
    select business_date, region_level, all_items_amount as measure
    from {{ tested_rows(ref('kpi_k19_subsidies_disbursed')) }}
    where region_level in ('district', 'town')
),

all_kpis as (
    select 'K06' as kpi_id, * from k06
    union all
    select 'K07', * from k07
    union all
    select 'K18', * from k18
    union all
    select 'K19', * from k19
),

sums as (
    select
        kpi_id,
        business_date,
        sum(measure) filter (where region_level = 'district') as district_measure,
        coalesce(sum(measure) filter (where region_level = 'town'), 0) as town_sum
    from all_kpis
    group by kpi_id, business_date
)

select * from sums
where district_measure <> town_sum
