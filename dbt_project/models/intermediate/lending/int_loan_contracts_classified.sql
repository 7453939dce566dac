{#- A table, not a view: see the intermediate layer's note in dbt_project.yml. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['loan_id']}, {'columns': ['customer_id']}],
    )
}}

with

loan_versions as (
    select * from {{ ref('int_loans_versioned') }}
),

customer_versions as (
    select * from {{ ref('int_customers_versioned') }}
),

listings as (
    select * from {{ ref('int_low_income_listings') }}
),

-- Contract terms never change after disbursement; the latest version also carries the
-- loan's current status and settlement date.
contracts as (
    select * from loan_versions
    where is_current_version
),

-- The ID hash of an individual borrower does not change between customer versions.
borrower_ids as (
    select
        customer_id,
        id_hash
    from customer_versions
    where is_current_version
        and id_hash is not null
),

-- Low-income (低收入农户): the borrower heads a household that is on the district's
-- low-income register on the disbursement date, by the register's own listing and
-- removal dates (纳入日期 <= disbursement date < 退出日期).
low_income_loans as (
    select distinct contracts.loan_id
    from contracts
    inner join borrower_ids
        on contracts.customer_id = borrower_ids.customer_id
    inner join listings
        on borrower_ids.id_hash = listings.head_id_hash
        and listings.listed_date <= contracts.disbursement_date
        and (listings.removed_date is null or listings.removed_date > contracts.disbursement_date)
),

final as (
    select
        contracts.loan_id,
        contracts.customer_id,
        contracts.product_code,
        contracts.product_name,
        contracts.borrower_class,
        contracts.guarantee_type,
        contracts.purpose,
        contracts.is_agri,
        contracts.agri_basis,
        contracts.green_category,
        contracts.is_inclusive_sme_reported,
        contracts.contract_amount,
        contracts.disbursement_date,
        contracts.maturity_date,
        contracts.term_months,
        contracts.repay_method,
        contracts.interest_rate_pct,
        contracts.loan_status,
        contracts.settlement_date,
        contracts.guarantee_type = '1' as is_credit_loan,
        contracts.green_category is not null as is_green,
        low_income_loans.loan_id is not null as is_low_income_at_disbursement,
        contracts.valid_from_date as last_changed_date
    from contracts
    left join low_income_loans
        on contracts.loan_id = low_income_loans.loan_id
)

select * from final
