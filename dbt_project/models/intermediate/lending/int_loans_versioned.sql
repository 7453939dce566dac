{#- A table, not a view: see the intermediate layer's note in dbt_project.yml. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['loan_id', 'valid_from_date']}],
    )
}}

with

loans as (
    select * from {{ ref('stg_core_banking__loans') }}
),

-- A changed-rows file may carry one contract twice (two changes on one day): the day's
-- version is its last change.
ranked_changes as (
    select
        *,
        row_number() over (
            partition by loan_id, business_date
            order by source_updated_at desc, line_number desc
        ) as change_rank_in_day
    from loans
),

daily_versions as (
    select * from ranked_changes
    where change_rank_in_day = 1
),

final as (
    select
        loan_id,
        business_date as valid_from_date,
        lead(business_date) over loan_history as valid_to_date,
        lead(business_date) over loan_history is null as is_current_version,
        customer_id,
        product_code,
        product_name,
        borrower_class,
        guarantee_type,
        purpose,
        is_agri,
        agri_basis,
        green_category,
        is_inclusive_sme_reported,
        contract_amount,
        disbursement_date,
        maturity_date,
        term_months,
        repay_method,
        interest_rate_pct,
        loan_status,
        settlement_date,
        source_updated_at,
        batch_id
    from daily_versions
    window loan_history as (partition by loan_id order by business_date)
)

select * from final
