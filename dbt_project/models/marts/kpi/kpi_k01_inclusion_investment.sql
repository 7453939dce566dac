{%- set window = rebuild_window(news=[{'model': 'stg_core_banking__investments', 'date': 'news.entry_date'}]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

entries as (
    select * from {{ ref('fct_inclusion_investment') }}
),

-- Booked amounts per entry date from the plan's first day (2016-01-01), then running
-- totals, so each business date reads the running total of the last entry date on or
-- before it (one lookup per day instead of re-summing the whole ledger every day).
daily_totals as (
    select
        entry_date,
        count(*) as entries,
        sum(amount) filter (where category_group = 'infrastructure') as infrastructure_amount,
        sum(amount) filter (where category_group = 'fee_waiver') as fee_waiver_amount,
        sum(amount) filter (where category_group = 'rate_concession') as rate_concession_amount,
        sum(amount) as amount
    from entries
    where entry_date >= date '2016-01-01'
    group by entry_date
),

running_totals as (
    select
        entry_date,
        sum(entries) over booking_days as entries,
        sum(coalesce(infrastructure_amount, 0)) over booking_days as infrastructure_amount,
        sum(coalesce(fee_waiver_amount, 0)) over booking_days as fee_waiver_amount,
        sum(coalesce(rate_concession_amount, 0)) over booking_days as rate_concession_amount,
        sum(amount) over booking_days as cumulative_amount
    from daily_totals
    window booking_days as (order by entry_date)
),

district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        coalesce(latest.entries, 0) as entries,
        coalesce(latest.infrastructure_amount, 0) as infrastructure_amount,
        coalesce(latest.fee_waiver_amount, 0) as fee_waiver_amount,
        coalesce(latest.rate_concession_amount, 0) as rate_concession_amount,
        coalesce(latest.cumulative_amount, 0) as cumulative_amount
    from business_dates
    left join lateral (
        select * from running_totals
        where running_totals.entry_date <= business_dates.business_date
        order by running_totals.entry_date desc
        limit 1
    ) as latest on true
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        entries::integer as entries,
        infrastructure_amount::numeric(18, 2) as infrastructure_amount,
        fee_waiver_amount::numeric(18, 2) as fee_waiver_amount,
        rate_concession_amount::numeric(18, 2) as rate_concession_amount,
        cumulative_amount::numeric(18, 2) as cumulative_amount,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from district_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
