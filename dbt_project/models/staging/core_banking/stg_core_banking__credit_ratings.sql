with

source as (
    select * from {{ source('core_banking', 'core_banking__credit_ratings') }}
),

renamed as (
    select
        rating_id,
        rating_type,
        household_id,
        village_code,
        rating_year::integer as rating_year,
        grade,
        credit_household_share,
        rated_date,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
