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
        small_micro_balance_amount::numeric(18, 2) as small_micro_balance_amount,
        small_micro_borrowers::integer as small_micro_borrowers,
        inclusive_small_micro_balance_amount::numeric(18, 2) as inclusive_small_micro_balance_amount,
        inclusive_small_micro_borrowers::integer as inclusive_small_micro_borrowers,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from balances_by_region
    where {{ in_window(window, 'business_date') }}
)

select * from final
