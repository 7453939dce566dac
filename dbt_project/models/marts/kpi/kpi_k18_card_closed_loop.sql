{%- set window = rebuild_window() -%}

with

-- Month and year to date: the window's dates and the days of its first year before them.
business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window, period='year') }}
),

card_flows as (
    select * from {{ ref('fct_card_flows_daily') }}
    where {{ in_window(window, period='year') }}
),

-- Every date: each branch that ever had a card flow has grid rows, as in a full build,
-- also in a window without its flows.
all_card_flows as (
    select * from {{ ref('fct_card_flows_daily') }}
),

-- The window's dates (int_branch_towns spans every business date of the history).
branch_towns as (
    select * from {{ ref('int_branch_towns') }}
    where {{ in_window(window, period='year') }}
),

branch_daily as (
    select
        business_date,
        home_branch_code as branch_code,
        sum(flow_amount) filter (where direction = 'I') as inflow_amount,
        sum(flow_amount) filter (where flow_kind = 'salary') as salary_inflow_amount,
        sum(flow_amount) filter (
            where flow_kind in ('subsidy', 'pension')
        ) as subsidy_pension_inflow_amount,
        sum(flow_amount) filter (
            where flow_kind in ('transfer_in_own_bank', 'transfer_in_other_bank')
        ) as transfer_inflow_amount,
        sum(flow_amount) filter (where flow_kind = 'cash_deposit') as cash_deposit_amount,
        sum(flow_amount) filter (where direction = 'O') as outflow_amount,
        sum(flow_amount) filter (where is_in_network_outflow) as in_network_outflow_amount
    from card_flows
    group by business_date, home_branch_code
),

branches as (
    select distinct home_branch_code as branch_code from all_card_flows
),

grid as (
    select branches.branch_code, business_dates.business_date
    from branches
    cross join business_dates
),

-- Month to date (the KPI) and year to date, per home branch, on every business date.
running as (
    select
        grid.business_date,
        grid.branch_code,
        sum(coalesce(branch_daily.inflow_amount, 0)) over month_to_date as inflow_amount_mtd,
        sum(coalesce(branch_daily.salary_inflow_amount, 0)) over month_to_date as salary_inflow_amount_mtd,
        sum(coalesce(branch_daily.subsidy_pension_inflow_amount, 0)) over month_to_date as subsidy_pension_inflow_amount_mtd,
        sum(coalesce(branch_daily.transfer_inflow_amount, 0)) over month_to_date as transfer_inflow_amount_mtd,
        sum(coalesce(branch_daily.cash_deposit_amount, 0)) over month_to_date as cash_deposit_amount_mtd,
        sum(coalesce(branch_daily.outflow_amount, 0)) over month_to_date as outflow_amount_mtd,
        sum(coalesce(branch_daily.in_network_outflow_amount, 0)) over month_to_date as in_network_outflow_amount_mtd,
        sum(coalesce(branch_daily.outflow_amount, 0)) over year_to_date as outflow_amount_ytd,
        sum(coalesce(branch_daily.in_network_outflow_amount, 0)) over year_to_date as in_network_outflow_amount_ytd
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

-- A card's whole window counts in the town its home branch belongs to on the business date.
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

{%- set measures = [
    'inflow_amount_mtd', 'salary_inflow_amount_mtd', 'subsidy_pension_inflow_amount_mtd',
    'transfer_inflow_amount_mtd', 'cash_deposit_amount_mtd', 'outflow_amount_mtd',
    'in_network_outflow_amount_mtd', 'outflow_amount_ytd', 'in_network_outflow_amount_ytd',
] %}

district_rows as (
    select
        business_dates.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        {%- for m in measures %}
        coalesce(sum(branch_days.{{ m }}), 0) as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
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
        {%- for m in measures %}
        sum({{ m }}) as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
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
        {%- for m in measures %}
        {{ m }}::numeric(18, 2) as {{ m }},
        {%- endfor %}
        (
            in_network_outflow_amount_ytd / nullif(outflow_amount_ytd, 0)
        )::numeric(9, 6) as closed_loop_rate_ytd,
        (
            in_network_outflow_amount_mtd / nullif(outflow_amount_mtd, 0)
        )::numeric(9, 6) as closed_loop_rate,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
