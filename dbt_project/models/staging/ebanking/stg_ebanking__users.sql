with

source as (
    select * from {{ source('ebanking', 'ebanking__users') }}
),

renamed as (
    select
        user_id,
        id_hash,
        birth_year,
        gender,
        id_region,
        card_hash,
        card_bin,
        channel as enrolment_channel,
        status as user_status,
        enrolled_at,
        created_at,
        updated_at,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _loaded_at as loaded_at
    from source
)

select * from renamed
