with

source as (
    select * from {{ source('core_banking', 'core_banking__loans') }}
),

renamed as (
    select
        loan_no as loan_id,
        cust_no as customer_id,
        product_code,
        product_name,
        borrower_class,
        guarantee_type,
        purpose,
        is_agri = '1' as is_agri,
        agri_basis,
        green_category,
        inclusive_sme_flag = '1' as is_inclusive_sme_reported,
        contract_amount,
        disburse_date as disbursement_date,
        maturity_date,
        term_months,
        repay_method,
        interest_rate as interest_rate_pct,
        status as loan_status,
        settle_date as settlement_date,
        -- The core-banking system records local time without a zone.
        update_time at time zone 'Asia/Shanghai' as source_updated_at,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
