{%- set window = rebuild_window(news=[{'model': 'stg_core_banking__visits', 'date': 'news.visit_date'}]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window, period='month') }}
),

visits as (
    select * from {{ ref('fct_manager_visits') }}
),

villages_daily as (
    select * from {{ ref('int_villages_daily') }}
    where {{ in_window(window) }}
),

-- A week (Monday to Sunday) is observable only when the core-banking unload, and with it
-- the visit journal, was loaded for all seven of its days.
observed_weeks as (
    select date_trunc('week', business_date)::date as week_start_date
    from business_dates
    group by date_trunc('week', business_date)
    having count(*) = 7
),

-- The period of business date d: the calendar month up to d. It holds the observed weeks
-- lying entirely inside it (Monday on or after the 1st, Sunday on or before d); weeks
-- straddling the month's start or still running on d do not count.
period_weeks as (
    select
        business_dates.business_date,
        observed_weeks.week_start_date
    from business_dates
    inner join observed_weeks
        on observed_weeks.week_start_date >= date_trunc('month', business_dates.business_date)
        and observed_weeks.week_start_date + 6 <= business_dates.business_date
),

weeks_in_period as (
    select
        business_dates.business_date,
        count(period_weeks.week_start_date) as whole_weeks
    from business_dates
    left join period_weeks
        on business_dates.business_date = period_weeks.business_date
    group by business_dates.business_date
),

visited_weeks as (
    select distinct
        village_code,
        week_start_date
    from visits
),

-- Administrative villages only: 驻村 is presence in the 行政村.
village_presence as (
    select
        villages_daily.business_date,
        villages_daily.village_code,
        villages_daily.village_name,
        villages_daily.town_code,
        villages_daily.town_name,
        count(visited_weeks.week_start_date) as weeks_with_presence
    from villages_daily
    left join period_weeks
        on villages_daily.business_date = period_weeks.business_date
    left join visited_weeks
        on villages_daily.village_code = visited_weeks.village_code
        and period_weeks.week_start_date = visited_weeks.week_start_date
    where not villages_daily.is_community
    group by
        villages_daily.business_date,
        villages_daily.village_code,
        villages_daily.village_name,
        villages_daily.town_code,
        villages_daily.town_name
),

village_rows as (
    select
        village_presence.business_date,
        'village' as region_level,
        village_presence.village_code as region_code,
        village_presence.village_name as region_name,
        village_presence.town_code,
        village_presence.town_name,
        1 as villages,
        weeks_in_period.whole_weeks as village_weeks,
        village_presence.weeks_with_presence as village_weeks_with_presence,
        case
            when weeks_in_period.whole_weeks > 0
                and village_presence.weeks_with_presence = weeks_in_period.whole_weeks
                then 1
            else 0
        end as villages_present_every_week
    from village_presence
    inner join weeks_in_period
        on village_presence.business_date = weeks_in_period.business_date
),

town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        sum(villages) as villages,
        sum(village_weeks) as village_weeks,
        sum(village_weeks_with_presence) as village_weeks_with_presence,
        sum(villages_present_every_week) as villages_present_every_week
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
        coalesce(sum(village_rows.villages), 0) as villages,
        coalesce(sum(village_rows.village_weeks), 0) as village_weeks,
        coalesce(sum(village_rows.village_weeks_with_presence), 0) as village_weeks_with_presence,
        coalesce(sum(village_rows.villages_present_every_week), 0) as villages_present_every_week
    from business_dates
    left join village_rows
        on business_dates.business_date = village_rows.business_date
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
        all_rows.business_date::date as business_date,
        all_rows.region_level::text as region_level,
        all_rows.region_code::text as region_code,
        all_rows.region_name::text as region_name,
        all_rows.town_code::text as town_code,
        all_rows.town_name::text as town_name,
        date_trunc('month', all_rows.business_date)::date as period_start_date,
        weeks_in_period.whole_weeks::integer as whole_weeks,
        all_rows.villages::integer as villages,
        all_rows.village_weeks::integer as village_weeks,
        all_rows.village_weeks_with_presence::integer as village_weeks_with_presence,
        all_rows.villages_present_every_week::integer as villages_present_every_week,
        (
            all_rows.villages_present_every_week::numeric
            / nullif(case when weeks_in_period.whole_weeks > 0 then all_rows.villages end, 0)
        )::numeric(9, 6) as every_week_share,
        (
            all_rows.village_weeks_with_presence::numeric / nullif(all_rows.village_weeks, 0)
        )::numeric(9, 6) as presence_share,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    inner join weeks_in_period
        on all_rows.business_date = weeks_in_period.business_date
    where {{ in_window(window, 'all_rows.business_date') }}
)

select * from final
