{%- set scopes = ['agri', 'all_items'] %}
{%- set window = rebuild_window(upstream=[subsidy_roster_changes()]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

-- Each village's credits and first-time recipients per credit date (since 2016-01-01).
subsidy_village_days as (
    select * from {{ ref('int_subsidy_village_days') }}
),

-- The window's snapshots: each business date's snapshot is that day's batch.
region_versions as (
    select * from {{ ref('int_regions_versioned') }}
    where {{ in_window(window, 'valid_from_date') }}
),

-- Flows count through the latest business date.
credit_days as (
    select
        credit_date,
        village_code,
        {%- for s in scopes %}
        sum(amount) filter (where scope = '{{ s }}') as {{ s }}_amount,
        sum(own_card_amount) filter (where scope = '{{ s }}') as {{ s }}_own_card_amount,
        sum(new_recipients) filter (where scope = '{{ s }}') as {{ s }}_new_recipients,
        sum(new_recipients_in_year) filter (where scope = '{{ s }}') as {{ s }}_new_recipients_in_year{{ ',' if not loop.last }}
        {%- endfor %}
    from subsidy_village_days
    where credit_date <= (select max(business_date) from business_dates)
    group by credit_date, village_code
),

villages as (
    select village_code from region_versions
    union
    select village_code from credit_days
),

grid_dates as (
    select business_date as grid_date from business_dates
    union
    select credit_date from credit_days
    where {{ in_window(window, 'credit_date') }}
),

grid as (
    select villages.village_code, grid_dates.grid_date
    from villages
    cross join grid_dates
),

daily as (
    select
        grid.village_code,
        grid.grid_date,
        {%- for s in scopes %}
        coalesce(credit_days.{{ s }}_amount, 0) as {{ s }}_amount,
        coalesce(credit_days.{{ s }}_own_card_amount, 0) as {{ s }}_own_card_amount,
        coalesce(credit_days.{{ s }}_new_recipients, 0) as {{ s }}_new_recipients,
        coalesce(credit_days.{{ s }}_new_recipients_in_year, 0) as {{ s }}_new_recipients_in_year{{ ',' if not loop.last }}
        {%- endfor %}
    from grid
    left join credit_days
        on grid.village_code = credit_days.village_code
        and grid.grid_date = credit_days.credit_date
),

{%- set from_date = window['from_date'] %}
{%- if from_date is not none %}

-- A nightly build's grid starts at its window: the credits before it enter the running
-- totals as each village's opening values (and the year's, for the window's first year).
pre_window as (
    select * from credit_days
    where credit_date < '{{ from_date }}'::date
),

opening as (
    select
        village_code,
        {%- for s in scopes %}
        coalesce(sum({{ s }}_amount), 0) as {{ s }}_amount,
        coalesce(sum({{ s }}_own_card_amount), 0) as {{ s }}_own_card_amount,
        coalesce(sum({{ s }}_new_recipients), 0) as {{ s }}_recipients,
        coalesce(sum({{ s }}_amount) filter (where {{ in_window(window, 'credit_date', 'year') }}), 0) as {{ s }}_amount_ytd,
        coalesce(sum({{ s }}_own_card_amount) filter (where {{ in_window(window, 'credit_date', 'year') }}), 0) as {{ s }}_own_card_amount_ytd,
        coalesce(sum({{ s }}_new_recipients_in_year) filter (where {{ in_window(window, 'credit_date', 'year') }}), 0) as {{ s }}_recipients_ytd{{ ',' if not loop.last }}
        {%- endfor %}
    from pre_window
    group by village_code
),
{%- endif %}

-- Since 2016-01-01 (cumulative) and year to date, per village.
running_in_grid as (
    select
        village_code,
        grid_date,
        {%- for s in scopes %}
        sum({{ s }}_amount) over since_start as {{ s }}_amount,
        sum({{ s }}_own_card_amount) over since_start as {{ s }}_own_card_amount,
        sum({{ s }}_new_recipients) over since_start as {{ s }}_recipients,
        sum({{ s }}_amount) over year_to_date as {{ s }}_amount_ytd,
        sum({{ s }}_own_card_amount) over year_to_date as {{ s }}_own_card_amount_ytd,
        sum({{ s }}_new_recipients_in_year) over year_to_date as {{ s }}_recipients_ytd{{ ',' if not loop.last }}
        {%- endfor %}
    from daily
    window
        since_start as (
            partition by village_code
            order by grid_date
            rows between unbounded preceding and current row
        ),
        year_to_date as (
            partition by village_code, date_trunc('year', grid_date)
            order by grid_date
            rows between unbounded preceding and current row
        )
),

running as (
    {%- if from_date is none %}
    select * from running_in_grid
    {%- else %}
    select
        running_in_grid.village_code,
        running_in_grid.grid_date,
        {%- for s in scopes %}
        {%- for m in ['amount', 'own_card_amount', 'recipients'] %}
        running_in_grid.{{ s }}_{{ m }} + coalesce(opening.{{ s }}_{{ m }}, 0) as {{ s }}_{{ m }},
        {%- endfor %}
        {%- for m in ['amount_ytd', 'own_card_amount_ytd', 'recipients_ytd'] %}
        running_in_grid.{{ s }}_{{ m }} + case
            when date_trunc('year', running_in_grid.grid_date) = date_trunc('year', '{{ from_date }}'::date)
                then coalesce(opening.{{ s }}_{{ m }}, 0)
            else 0
        end as {{ s }}_{{ m }}{{ ',' if not (loop.last and s == scopes[-1]) }}
        {%- endfor %}
        {%- endfor %}
    from running_in_grid
    left join opening
        on running_in_grid.village_code = opening.village_code
    {%- endif %}
),

village_days as (
    select
        business_dates.business_date,
        running.*
    from business_dates
    inner join running
        on business_dates.business_date = running.grid_date
),

-- The region snapshot in force on each day (that day's batch, else the latest before).
villages_on_day as (
    select
        business_dates.business_date,
        region_versions.village_code,
        region_versions.village_name,
        region_versions.town_code,
        region_versions.town_name
    from business_dates
    inner join region_versions
        on business_dates.business_date >= region_versions.valid_from_date
        and (
            region_versions.valid_to_date is null
            or business_dates.business_date < region_versions.valid_to_date
        )
),

{%- set measures = [] %}
{%- for s in scopes %}
{%- for m in ['amount', 'own_card_amount', 'recipients', 'amount_ytd', 'own_card_amount_ytd', 'recipients_ytd'] %}
{%- do measures.append(s ~ '_' ~ m) %}
{%- endfor %}
{%- endfor %}

village_rows as (
    select
        villages_on_day.business_date,
        'village' as region_level,
        villages_on_day.village_code as region_code,
        villages_on_day.village_name as region_name,
        villages_on_day.town_code,
        villages_on_day.town_name,
        {%- for m in measures %}
        village_days.{{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from villages_on_day
    inner join village_days
        on villages_on_day.business_date = village_days.business_date
        and villages_on_day.village_code = village_days.village_code
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
    from village_rows
    group by business_date, town_code, town_name
),

-- The district counts every credit, also one whose village is missing from the snapshot.
district_rows as (
    select
        business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        {%- for m in measures %}
        sum({{ m }}) as {{ m }}{{ ',' if not loop.last }}
        {%- endfor %}
    from village_days
    group by business_date
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
        {%- for s in scopes %}
        {{ s }}_amount_ytd::numeric(18, 2) as {{ s }}_amount_ytd,
        {{ s }}_own_card_amount_ytd::numeric(18, 2) as {{ s }}_own_card_amount_ytd,
        {{ s }}_recipients_ytd::integer as {{ s }}_recipients_ytd,
        ({{ s }}_own_card_amount_ytd / nullif({{ s }}_amount_ytd, 0))::numeric(9, 6) as {{ s }}_own_card_share_ytd,
        {%- if s != 'agri' %}
        {{ s }}_amount::numeric(18, 2) as {{ s }}_amount,
        {{ s }}_own_card_amount::numeric(18, 2) as {{ s }}_own_card_amount,
        {{ s }}_recipients::integer as {{ s }}_recipients,
        ({{ s }}_own_card_amount / nullif({{ s }}_amount, 0))::numeric(9, 6) as {{ s }}_own_card_share,
        {%- endif %}
        {%- endfor %}
        agri_own_card_amount::numeric(18, 2) as own_card_amount,
        agri_amount::numeric(18, 2) as subsidy_amount,
        agri_recipients::integer as recipients,
        (agri_own_card_amount / nullif(agri_amount, 0))::numeric(9, 6) as own_card_share,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
