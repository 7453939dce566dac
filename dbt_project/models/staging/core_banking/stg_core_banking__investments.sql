with

source as (
    select * from {{ source('core_banking', 'core_banking__investments') }}
),

renamed as (
    select
        entry_id,
        entry_date,
        category_code,
        category_name,
        outlet_code,
        nullif(village_code, '') as village_code,
        amount::numeric(18, 2) as amount,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
