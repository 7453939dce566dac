{#-
    Incremental (rebuild_window), by whole months: the month's channel-user figures
    change with every new day of the month, so the window starts on its first date's
    month. An account opened on a date not known before moves it back to that date; the
    closing of a known account only to its close date (the counts before it stand).
-#}
{%- set window = rebuild_window(news=[division_register_news(), closing_news(
    'stg_core_banking__accounts',
    key=['account_hash', 'open_date'],
    opened='{t}.open_date',
    closed='{t}.close_date',
)]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window, period='month') }}
),

regions as (
    select * from {{ ref('dim_region') }}
),

accounts as (
    select * from {{ ref('int_deposit_accounts') }}
),

service_points as (
    select * from {{ ref('int_service_points_daily') }}
    where {{ in_window(window, period='month') }}
),

loan_balances as (
    select * from {{ ref('fct_loan_balances_daily') }}
    where {{ in_window(window, period='month') }}
),

customers as (
    select * from {{ ref('dim_customer') }}
),

channel_users as (
    select * from {{ ref('fct_channel_users_monthly') }}
),

-- Registered residents of every village and community in force on the date (the
-- division register's population, see dim_region), and the adults among them.
population as (
    select
        business_dates.business_date,
        sum(regions.registered_population) as registered_population
    from business_dates
    inner join regions
        on business_dates.business_date >= regions.valid_from_date
        and (regions.valid_to_date is null or business_dates.business_date < regions.valid_to_date)
    group by business_dates.business_date
),

-- Open personal deposit accounts and their distinct holders: counted from the open date
-- until the day before the close date. Depositors: a person counts from the first
-- account's opening until the last account's closing.
account_events as (
    select open_date as event_date, 1 as change from accounts where is_personal
    union all
    select close_date, -1 from accounts where is_personal and close_date is not null
),

holders as (
    select
        id_hash,
        min(open_date) as first_open_date,
        case when bool_and(close_date is not null) then max(close_date) end as last_close_date
    from accounts
    where is_personal
    group by id_hash
),

holder_events as (
    select first_open_date as event_date, 1 as change from holders
    union all
    select last_close_date, -1 from holders where last_close_date is not null
),

-- The counts on each business date are running sums of the changes up to that date:
-- one pass over the changes and the dates together (a date's row sorts after the
-- changes of the same day). A lookup of the latest change before each date recomputed
-- the running sums once per date: 5 of the model's 6 s on five years at scale 0.01.
dated_changes as (
    select event_date, false as is_business_date, change as account_change, 0 as holder_change
    from account_events
    union all
    select event_date, false, 0, change
    from holder_events
    union all
    select business_date, true, 0, 0
    from business_dates
),

running_counts as (
    select
        event_date,
        is_business_date,
        sum(account_change) over changes_so_far as open_accounts,
        sum(holder_change) over changes_so_far as holders
    from dated_changes
    window changes_so_far as (
        order by event_date, is_business_date
        rows between unbounded preceding and current row
    )
),

deposit_counts as (
    select
        event_date as business_date,
        open_accounts as deposit_accounts,
        holders as depositors
    from running_counts
    where is_business_date
),

borrower_counts as (
    select
        loan_balances.business_date,
        count(distinct loan_balances.customer_id) as borrowers
    from loan_balances
    inner join customers
        on loan_balances.customer_id = customers.customer_id
    where loan_balances.balance_amount > 0
        and not customers.is_enterprise
    group by loan_balances.business_date
),

service_point_counts as (
    select
        business_date,
        count(*) filter (where is_open) as service_points,
        count(*) filter (
            where is_open and service_point_kind in ('head_office', 'sub_branch', 'sub_office')
        ) as branches
    from service_points
    group by business_date
),

joined as (
    select
        business_dates.business_date,
        population.registered_population,
        population.registered_population * {{ var('puhui_adult_share') }} as adults,
        deposit_counts.deposit_accounts,
        deposit_counts.depositors,
        coalesce(borrower_counts.borrowers, 0) as borrowers,
        coalesce(service_point_counts.service_points, 0) as service_points,
        coalesce(service_point_counts.branches, 0) as branches,
        channel_users.active_customers,
        channel_users.electronic_channel_customers,
        channel_users.electronic_channel_share
    from business_dates
    left join population
        on business_dates.business_date = population.business_date
    left join deposit_counts
        on business_dates.business_date = deposit_counts.business_date
    left join borrower_counts
        on business_dates.business_date = borrower_counts.business_date
    left join service_point_counts
        on business_dates.business_date = service_point_counts.business_date
    left join channel_users
        on date_trunc('month', business_dates.business_date) = channel_users.month_start_date
),

final as (
    select
        business_date::date as business_date,
        registered_population::integer as registered_population,
        round(adults)::integer as adults_estimated,
        deposit_accounts::integer as deposit_accounts,
        depositors::integer as depositors,
        borrowers::integer as borrowers,
        service_points::integer as service_points,
        branches::integer as branches,
        (deposit_accounts * 1000.0 / nullif(adults, 0))::numeric(12, 2)
            as deposit_accounts_per_1000_adults,
        (depositors * 1000.0 / nullif(adults, 0))::numeric(12, 2) as depositors_per_1000_adults,
        (borrowers * 1000.0 / nullif(adults, 0))::numeric(12, 2) as borrowers_per_1000_adults,
        (service_points * 10000.0 / nullif(adults, 0))::numeric(12, 2)
            as service_points_per_10000_adults,
        (branches * 100000.0 / nullif(adults, 0))::numeric(12, 2) as branches_per_100000_adults,
        (service_points * 1000.0 / {{ var('puhui_district_area_km2') }})::numeric(12, 2)
            as service_points_per_1000_km2,
        active_customers::integer as active_customers_month,
        electronic_channel_customers::integer as electronic_channel_customers_month,
        electronic_channel_share::numeric(9, 6) as electronic_channel_share_month,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from joined
)

select * from final
