with

source as (
    select * from {{ source('ebanking', 'ebanking__logins') }}
),

renamed as (
    select
        login_id,
        user_id,
        login_at,
        channel as login_channel,
        device,
        result as login_result,
        result = 'SUCCESS' as is_successful,
        created_at,
        updated_at,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _loaded_at as loaded_at
    from source
)

select * from renamed
