with

source as (
    select * from {{ source('core_banking', 'core_banking__managers') }}
),

renamed as (
    select
        manager_no,
        manager_name_hash,
        manager_name_masked,
        gender,
        outlet_code,
        grid_code,
        village_code,
        hired_date,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
