with

source as (
    select * from {{ source('core_banking', 'core_banking__accounts') }}
),

renamed as (
    select
        account_hash,
        account_masked,
        account_branch as account_branch_code,
        account_product,
        customer_type,
        customer_type = '1' as is_personal,
        id_hash,
        birth_year,
        gender,
        id_region,
        uscc,
        account_type,
        branch_code,
        currency,
        open_date,
        close_date,
        status as account_status,
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
