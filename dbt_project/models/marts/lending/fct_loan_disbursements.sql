{#- 小额信用贷款 cap per borrower (yuan), as in fct_loan_balances_daily. -#}
{%- set small_credit_cap = 300000 -%}
{%- set inclusive_credit_line_cap = 10000000 -%}

with

contracts as (
    select * from {{ ref('int_loan_contracts_classified') }}
),

customer_versions as (
    select * from {{ ref('int_customers_versioned') }}
),

loan_txns as (
    select * from {{ ref('stg_core_banking__loan_txns') }}
),

-- As in fct_loan_balances_daily: a customer's first version also describes it before
-- the day it was loaded.
customers_in_force as (
    select
        *,
        case when is_first_version then '0001-01-01'::date else valid_from_date end
            as effective_from_date
    from customer_versions
),

disbursement_postings as (
    select
        loan_id,
        min(channel_code) as channel_code,
        count(*) as postings
    from loan_txns
    where txn_kind = '01'
    group by loan_id
),

-- The borrower's credit loans outstanding at the end of the disbursement date (disbursed
-- on or before it, not settled by then), this loan included: the 小额信用贷款 cap
-- applies to that total, as for balances.
borrower_credit_exposure as (
    select
        this_loan.loan_id,
        sum(other_loans.contract_amount) as borrower_credit_contract_amount
    from contracts as this_loan
    inner join contracts as other_loans
        on this_loan.customer_id = other_loans.customer_id
        and other_loans.is_credit_loan
        and other_loans.disbursement_date <= this_loan.disbursement_date
        and (
            other_loans.loan_id = this_loan.loan_id
            or other_loans.settlement_date is null
            or other_loans.settlement_date > this_loan.disbursement_date
        )
    where this_loan.is_credit_loan
    group by this_loan.loan_id
),

classified as (
    select
        contracts.loan_id,
        contracts.customer_id,
        contracts.product_code,
        contracts.disbursement_date,
        contracts.contract_amount,
        customers_in_force.village_code,
        coalesce(customers_in_force.borrower_class, contracts.borrower_class) as borrower_class,
        customers_in_force.enterprise_size,
        coalesce(customers_in_force.is_individual_business, false) as is_individual_business,
        coalesce(customers_in_force.is_sme_owner, false) as is_sme_owner,
        customers_in_force.credit_line_amount,
        contracts.guarantee_type,
        contracts.purpose,
        contracts.agri_basis,
        contracts.green_category,
        contracts.is_agri,
        contracts.is_credit_loan,
        contracts.is_green,
        contracts.is_low_income_at_disbursement,
        borrower_credit_exposure.borrower_credit_contract_amount,
        disbursement_postings.channel_code
    from contracts
    left join customers_in_force
        on contracts.customer_id = customers_in_force.customer_id
        and contracts.disbursement_date >= customers_in_force.effective_from_date
        and (
            customers_in_force.valid_to_date is null
            or contracts.disbursement_date < customers_in_force.valid_to_date
        )
    left join borrower_credit_exposure
        on contracts.loan_id = borrower_credit_exposure.loan_id
    left join disbursement_postings
        on contracts.loan_id = disbursement_postings.loan_id
),

scoped as (
    select
        *,
        coalesce(
            (borrower_class = '2' and enterprise_size in ('S', 'T'))
            or ((is_individual_business or is_sme_owner) and purpose = '1'),
            false
        ) as is_small_micro
    from classified
),

final as (
    select
        loan_id::text as loan_id,
        disbursement_date::date as disbursement_date,
        customer_id::text as customer_id,
        product_code::text as product_code,
        village_code::text as village_code,
        borrower_class::text as borrower_class,
        guarantee_type::text as guarantee_type,
        purpose::text as purpose,
        agri_basis::text as agri_basis,
        green_category::text as green_category,
        contract_amount::numeric(18, 2) as disbursed_amount,
        coalesce(is_agri, false)::boolean as is_agri,
        is_small_micro::boolean as is_small_micro,
        (
            is_small_micro and coalesce(credit_line_amount <= {{ inclusive_credit_line_cap }}, false)
        )::boolean as is_inclusive_small_micro,
        (coalesce(is_agri, false) or is_small_micro)::boolean as is_agri_or_small_micro,
        coalesce(borrower_class = '1', false)::boolean as is_farm_household,
        coalesce(is_credit_loan, false)::boolean as is_credit,
        coalesce(
            is_credit_loan and borrower_credit_contract_amount <= {{ small_credit_cap }}, false
        )::boolean as is_small_credit,
        coalesce(is_green, false)::boolean as is_green,
        coalesce(is_low_income_at_disbursement, false)::boolean as is_low_income,
        channel_code::text as disbursement_channel_code
    from scoped
)

select * from final
