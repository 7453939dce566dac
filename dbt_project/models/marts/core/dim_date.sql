with

business_dates as (
    select * from {{ ref('int_business_dates') }}
),

plans as (
    select * from {{ ref('plan_targets') }}
),

plan_periods as (
    select distinct
        plan_id,
        baseline_date,
        target_date
    from plans
),

-- The calendar spans every plan (baseline to target date) and every loaded date.
bounds as (
    select
        least(
            (select min(baseline_date) from plan_periods),
            (select min(business_date) from business_dates)
        ) as first_date,
        greatest(
            (select max(target_date) from plan_periods),
            (select max(business_date) from business_dates)
        ) as last_date
),

calendar as (
    select generate_series(first_date, last_date, interval '1 day')::date as date_day
    from bounds
),

final as (
    select
        calendar.date_day,
        extract(year from calendar.date_day)::integer as year_number,
        extract(quarter from calendar.date_day)::integer as quarter_number,
        extract(month from calendar.date_day)::integer as month_number,
        extract(day from calendar.date_day)::integer as day_of_month,
        extract(isodow from calendar.date_day)::integer as iso_day_of_week,
        to_char(calendar.date_day, 'IYYY-"W"IW') as iso_week,
        date_trunc('week', calendar.date_day)::date as week_start_date,
        date_trunc('month', calendar.date_day)::date as month_start_date,
        (date_trunc('month', calendar.date_day) + interval '1 month - 1 day')::date as month_end_date,
        date_trunc('quarter', calendar.date_day)::date as quarter_start_date,
        date_trunc('year', calendar.date_day)::date as year_start_date,
        calendar.date_day
            = (date_trunc('month', calendar.date_day) + interval '1 month - 1 day')::date
            as is_month_end,
        calendar.date_day
            = (date_trunc('quarter', calendar.date_day) + interval '3 months - 1 day')::date
            as is_quarter_end,
        extract(month from calendar.date_day) = 12
            and extract(day from calendar.date_day) = 31 as is_year_end,
        business_dates.business_date is not null as is_loaded,
        -- The last loaded business date of its month: the month's figure on the scorecard.
        business_dates.business_date is not null
            and business_dates.business_date = max(business_dates.business_date) over (
                partition by date_trunc('month', calendar.date_day)
            ) as is_last_loaded_in_month,
        (
            select plan_periods.plan_id
            from plan_periods
            where calendar.date_day > plan_periods.baseline_date
                and calendar.date_day <= plan_periods.target_date
            order by plan_periods.baseline_date desc
            limit 1
        ) as plan_id,
        exists (
            select 1 from plan_periods where plan_periods.baseline_date = calendar.date_day
        ) as is_plan_baseline,
        exists (
            select 1 from plan_periods where plan_periods.target_date = calendar.date_day
        ) as is_plan_target_date
    from calendar
    left join business_dates
        on calendar.date_day = business_dates.business_date
)

select * from final
