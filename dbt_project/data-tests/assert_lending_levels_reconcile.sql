-- Lending KPIs: on every business date the villages add up to their towns and the towns
-- to the district (balances, borrowers, K03's cumulative amount). A gap means loans of
-- borrowers whose village is missing from the region snapshot in force.
with

balances as (
    select * from {{ tested_rows(ref('int_loan_balances_by_region')) }}
),

k03 as (
    select * from {{ tested_rows(ref('kpi_k03_low_income_loans')) }}
),

measures as (
    select
        business_date,
        region_level,
        region_code,
        town_code,
        total_balance_amount as amount,
        total_borrowers as borrowers
    from balances
    union all
    select
        business_date,
        region_level,
        region_code,
        town_code,
        low_income_disbursed_amount,
        low_income_loans_disbursed
    from k03
),

by_level as (
    select
        business_date,
        region_level,
        sum(amount) as amount,
        sum(borrowers) as borrowers
    from measures
    group by business_date, region_level
),

level_gaps as (
    select
        districts.business_date,
        lower_levels.region_level as compared_level,
        districts.amount as district_amount,
        lower_levels.amount as level_amount
    from by_level as districts
    inner join by_level as lower_levels
        on districts.business_date = lower_levels.business_date
        and lower_levels.region_level in ('town', 'village')
    where districts.region_level = 'district'
        and (
            districts.amount <> lower_levels.amount
            or districts.borrowers <> lower_levels.borrowers
        )
)

select * from level_gaps
