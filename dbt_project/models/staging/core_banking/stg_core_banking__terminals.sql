with

source as (
    select * from {{ source('core_banking', 'core_banking__terminals') }}
),

renamed as (
    select
        terminal_id,
        terminal_type,
        outlet_code,
        nullif(village_code, '') as village_code,
        installed_date,
        removed_date,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
