with

source as (
    select * from {{ source('agency', 'agency__division_register') }}
),

renamed as (
    select
        division_code as village_code,
        division_name as village_name,
        division_type,
        division_type = '社区' as is_community,
        urban_rural_code,
        town_code,
        town_name,
        town_type,
        registered_households,
        registered_population,
        stat_date,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
