{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_dates',
        on_schema_change='fail',
        indexes=[{'columns': ['source_loaded_at']}],
    )
}}

{%- set new_from = loaded_since_date('agency', ['subsidy_returns', 'payroll', 'withholding']) -%}

with

-- Only the files from the first date a batch loaded since the last build can hold, as in
-- fct_transactions_daily: the watermark comparison below alone read every row of the three
-- partners' histories (3.6 s a night at the end of five years at scale 0.1).
subsidy_returns as (
    select * from {{ ref('stg_agency__subsidy_returns') }}
    {%- if is_incremental() %}
    where business_date >= '{{ new_from }}'::date
    {%- endif %}
),

payroll as (
    select * from {{ ref('stg_agency__payroll') }}
    {%- if is_incremental() %}
    where business_date >= '{{ new_from }}'::date
    {%- endif %}
),

withholding as (
    select * from {{ ref('stg_agency__withholding') }}
    {%- if is_incremental() %}
    where business_date >= '{{ new_from }}'::date
    {%- endif %}
),

-- One row per result row of the partners' files, in one shape. Subsidy returns carry the
-- bank's result of each roster row (the rosters themselves are plans, not payments).
results as (
    select
        business_date,
        coalesce(credit_date, pay_date) as event_date,
        case when item_code = 'MS01' then 'pension' else 'subsidy' end as disbursement_kind,
        item_code,
        is_own_bank_account,
        case when is_credited then 'success' else 'failed' end as result,
        amount as due_amount,
        case when is_credited then amount else 0 end as paid_amount,
        loaded_at
    from subsidy_returns

    union all

    select
        business_date,
        pay_date,
        'payroll',
        case payroll_type when '奖金' then 'BONUS' else 'WAGES' end,
        is_own_bank_account,
        case when is_credited then 'success' else 'failed' end,
        amount,
        case when is_credited then amount else 0 end,
        loaded_at
    from payroll

    union all

    select
        business_date,
        debit_date,
        'withholding',
        'FEE' || fee_code,
        -- The partners debit only the bank's own cards (signed withholding agreements).
        true,
        case result_status when 'S' then 'success' when 'U' then 'unpaid' else 'pending' end,
        due_amount,
        paid_amount,
        loaded_at
    from withholding
),

-- Only delivery dates with a batch loaded after the newest one already in the table.
new_results as (
    select * from results
    {% if is_incremental() %}
    where business_date in (
        select distinct business_date
        from results
        where loaded_at > (select coalesce(max(source_loaded_at), '-infinity') from {{ this }})
    )
    {% endif %}
),

daily as (
    select
        business_date,
        event_date,
        disbursement_kind,
        item_code,
        is_own_bank_account,
        result,
        count(*) as row_count,
        sum(due_amount) as due_amount,
        sum(paid_amount) as paid_amount,
        max(loaded_at) as batch_loaded_at
    from new_results
    group by
        business_date,
        event_date,
        disbursement_kind,
        item_code,
        is_own_bank_account,
        result
),

final as (
    select
        business_date::date as business_date,
        event_date::date as event_date,
        disbursement_kind::text as disbursement_kind,
        item_code::text as item_code,
        is_own_bank_account::boolean as is_own_bank_account,
        result::text as result,
        row_count::bigint as row_count,
        due_amount::numeric(18, 2) as due_amount,
        paid_amount::numeric(18, 2) as paid_amount,
        (max(batch_loaded_at) over (partition by business_date))::timestamptz as source_loaded_at
    from daily
)

select * from final
