with

source as (
    select * from {{ source('core_banking', 'core_banking__households') }}
),

renamed as (
    select
        household_id,
        village_code,
        head_id_hash,
        head_id_masked,
        head_birth_year,
        head_gender,
        head_id_region,
        head_name_hash,
        head_name_masked,
        member_count,
        household_type,
        household_type = '1' as is_agricultural_household,
        register_date,
        cancel_date,
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
