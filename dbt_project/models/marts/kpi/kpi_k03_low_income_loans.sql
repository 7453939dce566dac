{%- set plan_start_date = var('puhui_plan_start_date', '2016-01-01') -%}

{%- set window = rebuild_window(news=[low_income_register_news(), {'model': 'stg_core_banking__loan_txns', 'date': 'news.txn_date'}]) -%}

with

disbursements as (
    select * from {{ ref('fct_loan_disbursements') }}
),

village_days as (
    select * from {{ ref('int_lending_village_days') }}
    where {{ in_window(window) }}
),

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

-- Loans to low-income farm households disbursed since the plan began, per village (the
-- borrower's village on the disbursement date) and day.
daily_low_income as (
    select
        village_code,
        disbursement_date,
        sum(disbursed_amount) as disbursed_amount,
        count(*) as loans
    from disbursements
    where is_low_income
        and disbursement_date >= '{{ plan_start_date }}'::date
    group by village_code, disbursement_date
),

village_rows as (
    select
        village_days.business_date,
        'village' as region_level,
        village_days.village_code as region_code,
        village_days.village_name as region_name,
        village_days.town_code,
        village_days.town_name,
        coalesce(sum(daily_low_income.disbursed_amount), 0) as low_income_disbursed_amount,
        coalesce(sum(daily_low_income.loans), 0) as low_income_loans_disbursed
    from village_days
    left join daily_low_income
        on village_days.village_code = daily_low_income.village_code
        and daily_low_income.disbursement_date <= village_days.business_date
    group by
        village_days.business_date,
        village_days.village_code,
        village_days.village_name,
        village_days.town_code,
        village_days.town_name
),

-- Towns of the business date: a village's past disbursements follow it into its new town.
town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        sum(low_income_disbursed_amount) as low_income_disbursed_amount,
        sum(low_income_loans_disbursed) as low_income_loans_disbursed
    from village_rows
    group by business_date, town_code, town_name
),

district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        coalesce(sum(daily_low_income.disbursed_amount), 0) as low_income_disbursed_amount,
        coalesce(sum(daily_low_income.loans), 0) as low_income_loans_disbursed
    from business_dates
    left join daily_low_income
        on daily_low_income.disbursement_date <= business_dates.business_date
    group by business_dates.business_date
),

all_rows as (
    select * from district_rows
    union all
    select * from town_rows
    union all
    select * from village_rows
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        low_income_loans_disbursed::integer as low_income_loans_disbursed,
        low_income_disbursed_amount::numeric(18, 2) as low_income_disbursed_amount,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
