with

source as (
    select * from {{ source('core_banking', 'core_banking__cards') }}
),

renamed as (
    select
        card_hash,
        card_masked,
        card_bin,
        id_hash,
        birth_year,
        gender,
        id_region,
        account_hash,
        account_branch as account_branch_code,
        card_type,
        branch_code,
        issue_date,
        status as card_status,
        status_date,
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
