with

source as (
    select * from {{ source('agency', 'agency__literacy_events') }}
),

renamed as (
    select
        event_id,
        event_date,
        town_code,
        village_code,
        village_name,
        topic,
        organiser,
        participants,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
