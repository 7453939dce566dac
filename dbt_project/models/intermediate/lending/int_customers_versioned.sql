{#- A table, not a view: see the intermediate layer's note in dbt_project.yml. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['customer_id', 'valid_from_date']}],
    )
}}

with

customers as (
    select * from {{ ref('stg_core_banking__customers') }}
),

-- A changed-rows file may carry one customer twice (two changes on one day): the day's
-- version is its last change.
ranked_changes as (
    select
        *,
        row_number() over (
            partition by customer_id, business_date
            order by source_updated_at desc, line_number desc
        ) as change_rank_in_day
    from customers
),

daily_versions as (
    select * from ranked_changes
    where change_rank_in_day = 1
),

final as (
    select
        customer_id,
        business_date as valid_from_date,
        lead(business_date) over customer_history as valid_to_date,
        lead(business_date) over customer_history is null as is_current_version,
        row_number() over customer_history = 1 as is_first_version,
        customer_type,
        is_enterprise,
        id_hash,
        birth_year,
        gender,
        id_region,
        borrower_class,
        enterprise_size,
        is_individual_business,
        is_sme_owner,
        village_code,
        credit_line_amount,
        open_date,
        source_updated_at,
        batch_id
    from daily_versions
    window customer_history as (partition by customer_id order by business_date)
)

select * from final
