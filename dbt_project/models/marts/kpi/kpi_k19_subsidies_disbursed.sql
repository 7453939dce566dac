{%- set scopes = ['agri', 'all_items'] %}

{#- A new result can credit a row (its credit date) or withdraw an earlier result's credit. -#}
{%- set window = rebuild_window(news=[
    {'model': 'stg_agency__subsidy_returns', 'date': 'news.credit_date'},
    {'model': 'stg_agency__subsidy_returns', 'date': '(select min(known.credit_date) from __relation__ as known'
        ~ ' where known.batch_no = news.batch_no and known.seq_no = news.seq_no)'},
]) -%}

with

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

subsidy_credits as (
    select * from {{ ref('int_subsidy_credits') }}
),

-- The window's snapshots: each business date's snapshot is that day's batch.
region_versions as (
    select * from {{ ref('int_regions_versioned') }}
    where {{ in_window(window, 'valid_from_date') }}
),

-- Flows count from the plan's start (2016-01-01) through the latest business date.
credits as (
    select *
    from subsidy_credits
    where credit_date >= date '2016-01-01'
        and credit_date <= (select max(business_date) from business_dates)
),

-- K19's headline scope is the agricultural items (NY01, NY02); all items are reported too.
scoped_credits as (
    select 'agri' as scope, * from credits where is_agricultural_item
    union all
    select 'all_items' as scope, * from credits
),

-- A recipient counts once per window, in the village of his first credit in it (so the
-- villages add up to the towns and the district).
first_credits as (
    select distinct on (scope, beneficiary_id_hash)
        scope,
        beneficiary_id_hash,
        credit_date,
        village_code
    from scoped_credits
    order by scope, beneficiary_id_hash, credit_date, village_code
),

first_credits_in_year as (
    select distinct on (scope, beneficiary_id_hash, date_trunc('year', credit_date))
        scope,
        beneficiary_id_hash,
        credit_date,
        village_code
    from scoped_credits
    order by scope, beneficiary_id_hash, date_trunc('year', credit_date), credit_date, village_code
),

daily_amounts as (
    select
        credit_date,
        village_code,
        {%- for s in scopes %}
        sum(amount) filter (where scope = '{{ s }}') as {{ s }}_amount,
        sum(amount) filter (where scope = '{{ s }}' and is_own_bank_account) as {{ s }}_own_card_amount,
        {%- endfor %}
        count(*) as credited_rows
    from scoped_credits
    group by credit_date, village_code
),

daily_recipients as (
    select
        credit_date,
        village_code,
        {%- for s in scopes %}
        count(*) filter (where scope = '{{ s }}') as {{ s }}_new_recipients,
        {%- endfor %}
        count(*) as first_credits
    from first_credits
    group by credit_date, village_code
),

daily_recipients_in_year as (
    select
        credit_date,
        village_code,
        {%- for s in scopes %}
        count(*) filter (where scope = '{{ s }}') as {{ s }}_new_recipients_in_year{{ ',' if not loop.last }}
        {%- endfor %}
    from first_credits_in_year
    group by credit_date, village_code
),

villages as (
    select village_code from region_versions
    union
    select village_code from credits
),

grid_dates as (
    select business_date as grid_date from business_dates
    union
    select credit_date from credits
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
        coalesce(daily_amounts.{{ s }}_amount, 0) as {{ s }}_amount,
        coalesce(daily_amounts.{{ s }}_own_card_amount, 0) as {{ s }}_own_card_amount,
        coalesce(daily_recipients.{{ s }}_new_recipients, 0) as {{ s }}_new_recipients,
        coalesce(daily_recipients_in_year.{{ s }}_new_recipients_in_year, 0) as {{ s }}_new_recipients_in_year{{ ',' if not loop.last }}
        {%- endfor %}
    from grid
    left join daily_amounts
        on grid.village_code = daily_amounts.village_code
        and grid.grid_date = daily_amounts.credit_date
    left join daily_recipients
        on grid.village_code = daily_recipients.village_code
        and grid.grid_date = daily_recipients.credit_date
    left join daily_recipients_in_year
        on grid.village_code = daily_recipients_in_year.village_code
        and grid.grid_date = daily_recipients_in_year.credit_date
),

{%- set from_date = window['from_date'] %}
{%- if from_date is not none %}

-- A nightly build's grid starts at its window: the credits before it enter the running
-- totals as each village's opening values (and the year's, for the window's first year).
pre_window as (
    {%- for part, columns in [
        ('daily_amounts', ['amount', 'own_card_amount']),
        ('daily_recipients', ['new_recipients']),
        ('daily_recipients_in_year', ['new_recipients_in_year']),
    ] %}
    select
        village_code,
        credit_date,
        {%- for s in scopes %}
        {%- for m in ['amount', 'own_card_amount', 'new_recipients', 'new_recipients_in_year'] %}
        {{ (s ~ '_' ~ m) if m in columns else '0' }} as {{ s }}_{{ m }}{{ ',' if not loop.last }}
        {%- endfor %}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ part }}
    where credit_date < '{{ from_date }}'::date
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
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
