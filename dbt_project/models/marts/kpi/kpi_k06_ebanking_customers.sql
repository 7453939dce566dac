{#-
    An enrolment reported late (a user first seen with an older enrolment) moves the
    window back to its enrolment date; the closing of a known enrolment only to its
    closing date (the days before it stand); a user's row repeating a known enrolment and
    status is no news.
-#}
{%- set window = rebuild_window(news=[closing_news(
    'stg_ebanking__users',
    key=['user_id', 'enrolled_at'],
    opened="({t}.enrolled_at at time zone 'Asia/Shanghai')::date",
    closed="case when {t}.user_status = 'CLOSED'"
        ~ " then ({t}.updated_at at time zone 'Asia/Shanghai')::date end",
    same="(known.user_status = 'CLOSED') = (news.user_status = 'CLOSED')",
)]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

enrolments as (
    select * from {{ ref('fct_ebanking_enrolments') }}
),

-- The window's dates (int_branch_towns spans every business date of the history).
branch_towns as (
    select * from {{ ref('int_branch_towns') }}
    where {{ in_window(window) }}
),

-- Each enrolment adds one customer on its enrolment date and removes one on its closing
-- date (a customer closed on d is no longer enrolled on d). '?' = card not in core banking.
changes as (
    select
        coalesce(card_branch_code, '?') as branch_code,
        enrolled_date as change_date,
        1 as enrolled_change,
        1 as new_enrolments,
        0 as closed_enrolments
    from enrolments
    union all
    select
        coalesce(card_branch_code, '?'),
        closed_date,
        -1,
        0,
        1
    from enrolments
    where closed_date is not null
),

daily_changes as (
    select
        branch_code,
        change_date,
        sum(enrolled_change) as enrolled_change,
        sum(new_enrolments) as new_enrolments,
        sum(closed_enrolments) as closed_enrolments
    from changes
    group by branch_code, change_date
),

branches as (
    select distinct branch_code from daily_changes
),

-- Every branch on every business date and every change date, so running sums can be read
-- on the business dates.
grid as (
    select branches.branch_code, business_dates.business_date as grid_date
    from branches
    cross join business_dates
    union
    select branch_code, change_date from daily_changes
),

running as (
    select
        grid.branch_code,
        grid.grid_date,
        sum(coalesce(daily_changes.enrolled_change, 0)) over (
            partition by grid.branch_code
            order by grid.grid_date
            rows between unbounded preceding and current row
        ) as enrolled_customers,
        sum(coalesce(daily_changes.new_enrolments, 0)) over (
            partition by grid.branch_code, date_trunc('month', grid.grid_date)
            order by grid.grid_date
            rows between unbounded preceding and current row
        ) as new_enrolments_mtd,
        sum(coalesce(daily_changes.closed_enrolments, 0)) over (
            partition by grid.branch_code, date_trunc('month', grid.grid_date)
            order by grid.grid_date
            rows between unbounded preceding and current row
        ) as closed_enrolments_mtd
    from grid
    left join daily_changes
        on grid.branch_code = daily_changes.branch_code
        and grid.grid_date = daily_changes.change_date
),

branch_days as (
    select
        business_dates.business_date,
        running.branch_code,
        branch_towns.town_code,
        branch_towns.town_name,
        running.enrolled_customers,
        running.new_enrolments_mtd,
        running.closed_enrolments_mtd
    from business_dates
    inner join running
        on business_dates.business_date = running.grid_date
    left join branch_towns
        on business_dates.business_date = branch_towns.business_date
        and running.branch_code = branch_towns.branch_code
),

district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        coalesce(sum(branch_days.enrolled_customers), 0) as enrolled_customers,
        coalesce(sum(branch_days.new_enrolments_mtd), 0) as new_enrolments_mtd,
        coalesce(sum(branch_days.closed_enrolments_mtd), 0) as closed_enrolments_mtd
    from business_dates
    left join branch_days
        on business_dates.business_date = branch_days.business_date
    group by business_dates.business_date
),

town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        sum(enrolled_customers) as enrolled_customers,
        sum(new_enrolments_mtd) as new_enrolments_mtd,
        sum(closed_enrolments_mtd) as closed_enrolments_mtd
    from branch_days
    where town_code is not null
    group by business_date, town_code, town_name
),

all_rows as (
    select * from district_rows
    union all
    select * from town_rows
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        new_enrolments_mtd::integer as new_enrolments_mtd,
        closed_enrolments_mtd::integer as closed_enrolments_mtd,
        enrolled_customers::integer as enrolled_customers,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
