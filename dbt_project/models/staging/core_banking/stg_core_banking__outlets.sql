with

source as (
    select * from {{ source('core_banking', 'core_banking__outlets') }}
),

renamed as (
    select
        outlet_code,
        outlet_name,
        outlet_type,
        nullif(parent_outlet_code, '') as parent_outlet_code,
        town_code,
        town_name,
        nullif(village_code, '') as village_code,
        opened_date,
        closed_date,
        service_count::integer as service_count,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
