with

source as (
    select * from {{ source('core_banking', 'core_banking__archives') }}
),

renamed as (
    select
        archive_id,
        household_id,
        village_code,
        id_hash,
        id_masked,
        birth_year,
        gender,
        id_region,
        name_hash,
        name_masked,
        mobile_hash,
        mobile_masked,
        archive_date,
        archive_status,
        archive_status = '1' as is_active_archive,
        manager_no,
        annual_income as annual_income_amount,
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
