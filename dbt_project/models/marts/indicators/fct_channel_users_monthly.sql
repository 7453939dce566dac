{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_dates',
        rebuild_date_column='month_start_date',
        on_schema_change='fail',
    )
}}

{%- set new_from = loaded_since_date('core_banking', 'txns') -%}

with

-- Only the journal from the first date a batch loaded since the last build can hold (a
-- literal from ops.load_audit, at compile time): the business-date index narrows the
-- scan, which the watermark comparison below alone cannot.
txns as (
    select * from {{ ref('stg_core_banking__txns') }}
    {%- if is_incremental() %}
    where business_date >= date_trunc('month', '{{ new_from }}'::date)
    {%- endif %}
),

accounts as (
    select * from {{ ref('int_deposit_accounts') }}
),

channels as (
    select * from {{ ref('dim_channel') }}
),

-- Months holding a journal batch loaded after the newest one already in the table are
-- recomputed whole, so a reloaded date restates its month.
new_txns as (
    select * from txns
    {% if is_incremental() %}
    where date_trunc('month', business_date) in (
        select distinct date_trunc('month', business_date)
        from txns
        where loaded_at > (select coalesce(max(source_loaded_at), '-infinity') from {{ this }})
    )
    {% endif %}
),

-- Customer-initiated, not reversed transactions of personal account holders.
person_months as (
    select
        date_trunc('month', new_txns.business_date)::date as month_start_date,
        accounts.id_hash,
        bool_or(channels.is_electronic) as used_electronic,
        bool_or(channels.is_counter) as used_counter,
        max(new_txns.business_date) as last_business_date,
        max(new_txns.loaded_at) as source_loaded_at
    from new_txns
    inner join accounts
        on new_txns.account_hash = accounts.account_hash
    inner join channels
        on new_txns.channel_code = channels.channel_code
    where accounts.is_personal
        and channels.is_customer_channel
        and not new_txns.is_reversed
    group by 1, 2
),

final as (
    select
        month_start_date::date as month_start_date,
        max(last_business_date)::date as last_business_date,
        count(*)::integer as active_customers,
        (count(*) filter (where used_electronic))::integer as electronic_channel_customers,
        (count(*) filter (where used_counter and not used_electronic))::integer
            as counter_only_customers,
        (
            (count(*) filter (where used_electronic))::numeric / nullif(count(*), 0)
        )::numeric(9, 6) as electronic_channel_share,
        max(source_loaded_at)::timestamptz as source_loaded_at
    from person_months
    group by month_start_date
)

select * from final
