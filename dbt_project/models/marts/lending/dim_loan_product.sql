with

disbursements as (
    select * from {{ ref('fct_loan_disbursements') }}
),

contracts as (
    select * from {{ ref('int_loan_contracts_classified') }}
),

-- Products are not a table of the core-banking unload: each contract names its product.
product_names as (
    select distinct on (product_code)
        product_code,
        product_name
    from contracts
    order by product_code, last_changed_date desc
),

-- A product's regulatory scopes, read from the contracts written under it: the share of
-- its contracts (by number, at disbursement) in each scope.
product_scopes as (
    select
        product_code,
        count(*) as contracts,
        sum(disbursed_amount) as disbursed_amount,
        avg(is_agri::integer) as agri_share,
        avg(is_small_micro::integer) as small_micro_share,
        avg(is_inclusive_small_micro::integer) as inclusive_small_micro_share,
        avg(is_farm_household::integer) as farm_household_share,
        avg(is_credit::integer) as credit_share,
        avg(is_small_credit::integer) as small_credit_share,
        avg(is_green::integer) as green_share,
        avg(is_low_income::integer) as low_income_share
    from disbursements
    group by product_code
),

final as (
    select
        product_names.product_code::text as product_code,
        product_names.product_name::text as product_name,
        product_scopes.contracts::integer as contracts,
        product_scopes.disbursed_amount::numeric(18, 2) as disbursed_amount,
        product_scopes.agri_share::numeric(9, 6) as agri_share,
        product_scopes.small_micro_share::numeric(9, 6) as small_micro_share,
        product_scopes.inclusive_small_micro_share::numeric(9, 6) as inclusive_small_micro_share,
        product_scopes.farm_household_share::numeric(9, 6) as farm_household_share,
        product_scopes.credit_share::numeric(9, 6) as credit_share,
        product_scopes.small_credit_share::numeric(9, 6) as small_credit_share,
        product_scopes.green_share::numeric(9, 6) as green_share,
        product_scopes.low_income_share::numeric(9, 6) as low_income_share,
        (product_scopes.agri_share > 0)::boolean as has_agri_loans,
        (product_scopes.small_micro_share > 0)::boolean as has_small_micro_loans,
        (product_scopes.farm_household_share > 0)::boolean as has_farm_household_loans,
        (product_scopes.credit_share = 1)::boolean as is_credit_product,
        (product_scopes.green_share > 0)::boolean as has_green_loans,
        (product_scopes.low_income_share > 0)::boolean as has_low_income_loans
    from product_names
    inner join product_scopes
        on product_names.product_code = product_scopes.product_code
)

select * from final
