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
        green_balance_amount::numeric(18, 2) as green_balance_amount,
        total_balance_amount::numeric(18, 2) as total_balance_amount,
        (
            green_balance_amount / nullif(total_balance_amount, 0)
        )::numeric(9, 6) as green_credit_share,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from balances_by_region
    where {{ in_window(window, 'business_date') }}
)

select * from final
