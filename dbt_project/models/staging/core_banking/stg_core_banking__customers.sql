with

source as (
    select * from {{ source('core_banking', 'core_banking__customers') }}
),

renamed as (
    select
        cust_no as customer_id,
        cust_type as customer_type,
        cust_type = '2' as is_enterprise,
        id_hash,
        id_masked,
        birth_year,
        gender,
        id_region,
        cust_name_hash as name_hash,
        cust_name_masked as name_masked,
        enterprise_name,
        mobile_hash,
        mobile_masked,
        uscc,
        org_name,
        borrower_class,
        ent_size as enterprise_size,
        is_individual_business = '1' as is_individual_business,
        is_sme_owner = '1' as is_sme_owner,
        village_code,
        credit_line as credit_line_amount,
        open_date,
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
