with

source as (
    select * from {{ source('core_banking', 'core_banking__visits') }}
),

renamed as (
    select
        visit_id,
        visit_date,
        manager_no,
        village_code,
        purpose_code,
        households_visited,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
