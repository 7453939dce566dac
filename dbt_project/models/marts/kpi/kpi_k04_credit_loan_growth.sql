{%- set baseline_date = var('puhui_plan_baseline_date', '2015-12-31') -%}
{%- set window = rebuild_window() -%}

with

-- The window's dates and the baseline day every growth figure is measured from.
balances_by_region as (
    select * from {{ ref('int_loan_balances_by_region') }}
    where {{ in_window(window) }}
        or business_date = '{{ baseline_date }}'::date
),

village_days as (
    select * from {{ ref('int_lending_village_days') }}
    where {{ in_window(window) }}
),

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
        or business_date = '{{ baseline_date }}'::date
),

-- Growth needs the baseline day's balances; when that day is not loaded it is unknown.
baseline_loaded as (
    select count(*) > 0 as is_loaded
    from business_dates
    where business_date = '{{ baseline_date }}'::date
),

baseline_rows as (
    select * from balances_by_region
    where business_date = '{{ baseline_date }}'::date
),

-- Villages keep their codes when towns are reorganised, so a town's baseline is the sum
-- of the baselines of the villages that belong to it on the business date.
town_baselines as (
    select
        village_days.business_date,
        village_days.town_code,
        sum(coalesce(baseline_rows.credit_balance_amount, 0)) as baseline_amount
    from village_days
    left join baseline_rows
        on baseline_rows.region_level = 'village'
        and village_days.village_code = baseline_rows.region_code
    group by village_days.business_date, village_days.town_code
),

with_baseline as (
    select
        balances_by_region.business_date,
        balances_by_region.region_level,
        balances_by_region.region_code,
        balances_by_region.region_name,
        balances_by_region.town_code,
        balances_by_region.town_name,
        balances_by_region.credit_balance_amount,
        case
            when not baseline_loaded.is_loaded then null
            when balances_by_region.region_level = 'district' then district_baseline.credit_balance_amount
            when balances_by_region.region_level = 'town' then town_baselines.baseline_amount
            else coalesce(village_baseline.credit_balance_amount, 0)
        end as baseline_credit_balance_amount
    from balances_by_region
    cross join baseline_loaded
    left join baseline_rows as district_baseline
        on district_baseline.region_level = 'district'
        and balances_by_region.region_level = 'district'
    left join town_baselines
        on balances_by_region.region_level = 'town'
        and balances_by_region.business_date = town_baselines.business_date
        and balances_by_region.region_code = town_baselines.town_code
    left join baseline_rows as village_baseline
        on village_baseline.region_level = 'village'
        and balances_by_region.region_level = 'village'
        and balances_by_region.region_code = village_baseline.region_code
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        credit_balance_amount::numeric(18, 2) as credit_balance_amount,
        baseline_credit_balance_amount::numeric(18, 2) as baseline_credit_balance_amount,
        (credit_balance_amount - baseline_credit_balance_amount)::numeric(18, 2)
            as credit_balance_growth_amount,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from with_baseline
    where {{ in_window(window, 'business_date') }}
)

select * from final
