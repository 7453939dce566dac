-- fct_loan_balances_daily is complete: on every business date it holds exactly the
-- loans and the balance total of that day's raw balance batch.
with

source_days as (
    select
        business_date,
        count(*) as loans,
        sum(balance_amount) as balance_amount
    from {{ tested_rows(ref('stg_core_banking__loan_balances')) }}
    group by business_date
),

fact_days as (
    select
        business_date,
        count(*) as loans,
        sum(balance_amount) as balance_amount
    from {{ tested_rows(ref('fct_loan_balances_daily')) }}
    group by business_date
)

select
    coalesce(source_days.business_date, fact_days.business_date) as business_date,
    source_days.loans as source_loans,
    fact_days.loans as fact_loans,
    source_days.balance_amount as source_balance_amount,
    fact_days.balance_amount as fact_balance_amount
from source_days
full outer join fact_days
    on source_days.business_date = fact_days.business_date
where source_days.loans is distinct from fact_days.loans
    or source_days.balance_amount is distinct from fact_days.balance_amount
