{%- set window = rebuild_window() -%}

with

balances_by_region as (
    select * from {{ ref('int_loan_balances_by_region') }}
    where {{ in_window(window) }}
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        farm_household_balance_amount::numeric(18, 2) as farm_household_balance_amount,
        farm_household_borrowers::integer as farm_household_borrowers,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from balances_by_region
    where {{ in_window(window, 'business_date') }}
)

select * from final
