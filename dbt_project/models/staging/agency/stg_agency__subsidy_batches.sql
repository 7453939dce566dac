with

source as (
    select * from {{ source('agency', 'agency__subsidy_batches') }}
),

renamed as (
    select
        batch_no,
        item_code,
        item_name,
        fund_year,
        department,
        appropriation_doc_no,
        total_count,
        total_amount::numeric(18, 2) as total_amount,
        pay_date,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
