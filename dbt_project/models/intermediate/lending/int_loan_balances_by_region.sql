{#-
    A table, built incrementally (rebuild_window): six KPI marts read it, and as a view
    each of them aggregated every loan of every day of the history again. Low-income
    register news rewrites fct_loan_balances_daily's days from its date on: so here too.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        on_schema_change='fail',
        indexes=[
            {'columns': ['business_date', 'region_level', 'region_code'], 'unique': true},
            {'columns': ['built_from_loaded_at']},
        ],
    )
}}
{%- set window = rebuild_window(news=[low_income_register_news()]) -%}

{#- One set of measures for every balance KPI (K04 K05 K08 K13 K14 K15), at three levels. -#}
{%- set measures = {
    'total': 'true',
    'credit': 'is_credit',
    'agri': 'is_agri',
    'small_micro': 'is_small_micro',
    'inclusive_small_micro': 'is_inclusive_small_micro',
    'agri_or_small_micro': 'is_agri_or_small_micro',
    'agri_and_small_micro': 'is_agri and is_small_micro',
    'green': 'is_green',
    'small_credit': 'is_small_credit',
    'farm_household': 'is_farm_household',
    'low_income': 'is_low_income',
} -%}

with

balances as (
    select * from {{ ref('fct_loan_balances_daily') }}
    where {{ in_window(window) }}
),

village_days as (
    select * from {{ ref('int_lending_village_days') }}
    where {{ in_window(window) }}
),

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

-- A borrower lives in one village on a day, so village borrower counts add up to towns.
-- Materialized: a nightly window's new dates lie past the statistics, so the planner
-- expects one row here and joined village_days to this aggregate in a nested loop that
-- sorted the day's loans again for every village (37 s of a 38 s node at scale 1.0; 0.5 s
-- computed once).
village_sums as materialized (
    select
        business_date,
        village_code,
        {%- for name, condition in measures.items() %}
        coalesce(sum(balance_amount) filter (where {{ condition }}), 0) as {{ name }}_balance_amount,
        count(distinct customer_id) filter (where {{ condition }}) as {{ name }}_borrowers{{ ',' if not loop.last }}
        {%- endfor %}
    from balances
    group by business_date, village_code
),

village_rows as (
    select
        village_days.business_date,
        'village' as region_level,
        village_days.village_code as region_code,
        village_days.village_name as region_name,
        village_days.town_code,
        village_days.town_name,
        {%- for name in measures %}
        coalesce(village_sums.{{ name }}_balance_amount, 0) as {{ name }}_balance_amount,
        coalesce(village_sums.{{ name }}_borrowers, 0) as {{ name }}_borrowers{{ ',' if not loop.last }}
        {%- endfor %}
    from village_days
    left join village_sums
        on village_days.business_date = village_sums.business_date
        and village_days.village_code = village_sums.village_code
),

town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        {%- for name in measures %}
        sum({{ name }}_balance_amount) as {{ name }}_balance_amount,
        sum({{ name }}_borrowers) as {{ name }}_borrowers{{ ',' if not loop.last }}
        {%- endfor %}
    from village_rows
    group by business_date, town_code, town_name
),

-- The district counts every loan, also one whose borrower's village is missing from the
-- region snapshot in force.
district_sums as (
    select
        business_date,
        {%- for name, condition in measures.items() %}
        coalesce(sum(balance_amount) filter (where {{ condition }}), 0) as {{ name }}_balance_amount,
        count(distinct customer_id) filter (where {{ condition }}) as {{ name }}_borrowers{{ ',' if not loop.last }}
        {%- endfor %}
    from balances
    group by business_date
),

district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        {%- for name in measures %}
        coalesce(district_sums.{{ name }}_balance_amount, 0) as {{ name }}_balance_amount,
        coalesce(district_sums.{{ name }}_borrowers, 0) as {{ name }}_borrowers{{ ',' if not loop.last }}
        {%- endfor %}
    from business_dates
    left join district_sums
        on business_dates.business_date = district_sums.business_date
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
        {%- for name in measures %}
        {{ name }}_balance_amount::numeric(18, 2) as {{ name }}_balance_amount,
        {{ name }}_borrowers::integer as {{ name }}_borrowers,
        {%- endfor %}
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
)

select * from final
