with

source as (
    select * from {{ source('agency', 'agency__low_income_register') }}
),

renamed as (
    select
        file_type,
        seq_no,
        head_id_hash,
        head_id_masked,
        head_birth_year,
        head_gender,
        head_id_region,
        head_name_hash,
        head_name_masked,
        town_code,
        town_name,
        village_code,
        register_year::integer as register_year,
        category as low_income_category,
        household_size,
        listed_date,
        removed_date,
        change_type,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
