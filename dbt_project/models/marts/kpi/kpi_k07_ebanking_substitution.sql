{%- set window = rebuild_window() -%}

with

-- Month and year to date: the window's dates and the days of its first year before them.
business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window, period='year') }}
),

transactions as (
    select * from {{ ref('fct_transactions_daily') }}
    where {{ in_window(window, period='year') }}
),

channels as (
    select * from {{ ref('dim_channel') }}
),

-- The window's dates (int_branch_towns spans every business date of the history).
branch_towns as (
    select * from {{ ref('int_branch_towns') }}
    where {{ in_window(window, period='year') }}
),

-- Customer financial transactions: reversed (抹账) entries and batch agency postings are
-- not counted; the counter is TE, every other customer channel is electronic.
branch_daily as (
    select
        transactions.business_date,
        transactions.branch_code,
        sum(transactions.txn_count) filter (where channels.is_electronic) as electronic_txns,
        sum(transactions.txn_count) filter (where channels.is_counter) as counter_txns
    from transactions
    inner join channels
        on transactions.channel_code = channels.channel_code
    where not transactions.is_reversed
        and channels.is_customer_channel
    group by transactions.business_date, transactions.branch_code
),

-- Each branch with a customer transaction in a year has grid rows on every date of that
-- year, so its month and year to date carry over days without transactions. A year's
-- branches come from that year's transactions, which a nightly build reads too: the
-- branches of every year of the history, read each night, cost 2.0 s at the end of five
-- years at scale 0.1.
branch_years as (
    select distinct
        date_trunc('year', business_date) as year_start,
        branch_code
    from branch_daily
),

grid as (
    select branch_years.branch_code, business_dates.business_date
    from branch_years
    inner join business_dates
        on branch_years.year_start = date_trunc('year', business_dates.business_date)
),

-- Month to date and year to date, per branch, on every business date.
running as (
    select
        grid.business_date,
        grid.branch_code,
        sum(coalesce(branch_daily.electronic_txns, 0)) over month_to_date as electronic_txns_mtd,
        sum(coalesce(branch_daily.counter_txns, 0)) over month_to_date as counter_txns_mtd,
        sum(coalesce(branch_daily.electronic_txns, 0)) over year_to_date as electronic_txns_ytd,
        sum(coalesce(branch_daily.counter_txns, 0)) over year_to_date as counter_txns_ytd
    from grid
    left join branch_daily
        on grid.business_date = branch_daily.business_date
        and grid.branch_code = branch_daily.branch_code
    window
        month_to_date as (
            partition by grid.branch_code, date_trunc('month', grid.business_date)
            order by grid.business_date
            rows between unbounded preceding and current row
        ),
        year_to_date as (
            partition by grid.branch_code, date_trunc('year', grid.business_date)
            order by grid.business_date
            rows between unbounded preceding and current row
        )
),

-- A branch's whole window counts in the town the branch belongs to on the business date.
branch_days as (
    select
        running.*,
        branch_towns.town_code,
        branch_towns.town_name
    from running
    left join branch_towns
        on running.business_date = branch_towns.business_date
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
        coalesce(sum(branch_days.electronic_txns_mtd), 0) as electronic_txns_mtd,
        coalesce(sum(branch_days.counter_txns_mtd), 0) as counter_txns_mtd,
        coalesce(sum(branch_days.electronic_txns_ytd), 0) as electronic_txns_ytd,
        coalesce(sum(branch_days.counter_txns_ytd), 0) as counter_txns_ytd
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
        sum(electronic_txns_mtd) as electronic_txns_mtd,
        sum(counter_txns_mtd) as counter_txns_mtd,
        sum(electronic_txns_ytd) as electronic_txns_ytd,
        sum(counter_txns_ytd) as counter_txns_ytd
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
        electronic_txns_mtd::bigint as electronic_txns_mtd,
        counter_txns_mtd::bigint as counter_txns_mtd,
        (electronic_txns_mtd + counter_txns_mtd)::bigint as financial_txns_mtd,
        electronic_txns_ytd::bigint as electronic_txns_ytd,
        counter_txns_ytd::bigint as counter_txns_ytd,
        (
            electronic_txns_ytd::numeric
            / nullif(electronic_txns_ytd + counter_txns_ytd, 0)
        )::numeric(9, 6) as substitution_rate_ytd,
        (
            electronic_txns_mtd::numeric
            / nullif(electronic_txns_mtd + counter_txns_mtd, 0)
        )::numeric(9, 6) as substitution_rate,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
