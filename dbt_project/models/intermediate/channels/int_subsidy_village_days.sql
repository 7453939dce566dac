{#-
    A table, built incrementally (rebuild_window on credit_date): K19's running totals
    start from every credit since 2016, and as part of K19 each night sorted every credit
    of the history to find each recipient's first one (4.9 s at the end of five years at
    scale 0.1, 0.2 s in the first month). A night rebuilds the credit dates of its window,
    looking up the earlier credits of the window's recipients only.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        rebuild_date_column='credit_date',
        placeholder_where='scope is null',
        on_schema_change='fail',
        indexes=[
            {'columns': ['credit_date']},
            {'columns': ['built_from_loaded_at']},
        ],
    )
}}
{%- set window = rebuild_window(upstream=[subsidy_roster_changes()]) -%}

with

-- Flows count from the plan's start (2016-01-01).
credits as (
    select * from {{ ref('int_subsidy_credits') }}
    where credit_date >= date '2016-01-01'
),

window_credits as (
    select * from credits
    where {{ in_window(window, 'credit_date') }}
),

-- Every credit of the window's recipients, earlier ones included (through the
-- beneficiary index of int_subsidy_results): their first credit can precede the window.
{%- if window['from_date'] is none %}
recipient_credits as (
    select * from credits
),
{%- else %}
recipient_credits as (
    select * from credits
    where beneficiary_id_hash = any(array(select distinct beneficiary_id_hash from window_credits))
),
{%- endif %}

scoped_credits as (
    select 'agri' as scope, * from recipient_credits where is_agricultural_item
    union all
    select 'all_items' as scope, * from recipient_credits
),

-- A recipient counts once, in the village of his first credit (so the villages add up to
-- the towns and the district); and once a year, in the village of his first credit that
-- year.
first_credits as (
    select distinct on (scope, beneficiary_id_hash)
        scope,
        credit_date,
        village_code
    from scoped_credits
    order by scope, beneficiary_id_hash, credit_date, village_code
),

first_credits_in_year as (
    select distinct on (scope, beneficiary_id_hash, date_trunc('year', credit_date))
        scope,
        credit_date,
        village_code
    from scoped_credits
    order by scope, beneficiary_id_hash, date_trunc('year', credit_date), credit_date, village_code
),

events as (
    select
        scope,
        credit_date,
        village_code,
        amount,
        case when is_own_bank_account then amount else 0 end as own_card_amount,
        0 as new_recipients,
        0 as new_recipients_in_year
    from scoped_credits
    where {{ in_window(window, 'credit_date') }}

    union all

    select scope, credit_date, village_code, 0, 0, 1, 0
    from first_credits
    where {{ in_window(window, 'credit_date') }}

    union all

    select scope, credit_date, village_code, 0, 0, 0, 1
    from first_credits_in_year
    where {{ in_window(window, 'credit_date') }}
),

final as (
    select
        credit_date::date as credit_date,
        village_code::text as village_code,
        scope::text as scope,
        sum(amount)::numeric(18, 2) as amount,
        sum(own_card_amount)::numeric(18, 2) as own_card_amount,
        sum(new_recipients)::integer as new_recipients,
        sum(new_recipients_in_year)::integer as new_recipients_in_year,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from events
    group by credit_date, village_code, scope
)

{%- if window['from_date'] is not none and model.resource_type != 'unit_test' %},

-- The window's first date may hold no credit any more (a withdrawn return): a placeholder
-- row (scope null) names it, so that rebuild_window deletes from there on.
window_start as (
    select
        '{{ window['from_date'] }}'::date as credit_date,
        null::text as village_code,
        null::text as scope,
        null::numeric(18, 2) as amount,
        null::numeric(18, 2) as own_card_amount,
        null::integer as new_recipients,
        null::integer as new_recipients_in_year,
        {{ window['loaded_at'] }} as built_from_loaded_at
)

select * from final
union all
select * from window_start
{%- else %}

select * from final
{%- endif %}
