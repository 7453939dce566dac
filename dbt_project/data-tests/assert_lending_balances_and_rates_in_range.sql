-- Lending KPIs: every balance is non-negative and within the total loan balance, every
-- borrower count within all borrowers, every scope within its parent scope, and every
-- rate in [0, 1] with its numerator within its denominator.
with

balances as (
    select * from {{ tested_rows(ref('int_loan_balances_by_region')) }}
),

balance_violations as (
    select
        business_date,
        region_level,
        region_code,
        'balance out of range' as problem
    from balances
    where least(
            total_balance_amount, credit_balance_amount, agri_balance_amount,
            small_micro_balance_amount, green_balance_amount, small_credit_balance_amount,
            farm_household_balance_amount, low_income_balance_amount
        ) < 0
        or greatest(
            credit_balance_amount, agri_or_small_micro_balance_amount, green_balance_amount,
            farm_household_balance_amount, low_income_balance_amount
        ) > total_balance_amount
        or small_credit_balance_amount > credit_balance_amount
        or inclusive_small_micro_balance_amount > small_micro_balance_amount
        or agri_and_small_micro_balance_amount > least(agri_balance_amount, small_micro_balance_amount)
        or greatest(
            small_credit_borrowers, farm_household_borrowers, small_micro_borrowers
        ) > total_borrowers
),

rate_violations as (
    select business_date, region_level, region_code, 'K08 share out of range' as problem
    from {{ tested_rows(ref('kpi_k08_green_credit_share')) }}
    where green_credit_share < 0 or green_credit_share > 1
    union all
    select business_date, region_level, region_code, 'K16 share out of range'
    from {{ tested_rows(ref('kpi_k16_credit_villages')) }}
    where credit_villages > administrative_villages or credit_village_share < 0 or credit_village_share > 1
    union all
    select business_date, region_level, region_code, 'K17 share out of range'
    from {{ tested_rows(ref('kpi_k17_credit_households')) }}
    where credit_households > rated_households or credit_household_share < 0 or credit_household_share > 1
)

select * from balance_violations
union all
select * from rate_violations
