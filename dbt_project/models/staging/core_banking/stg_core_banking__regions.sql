with

source as (
    select * from {{ source('core_banking', 'core_banking__regions') }}
),

renamed as (
    select
        village_code,
        village_name,
        village_type,
        village_type = '1' as is_community,
        town_code,
        town_name,
        town_type,
        urban_rural_code,
        effective_date,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
