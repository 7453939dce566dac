with

source as (
    select * from {{ source('core_banking', 'core_banking__loan_txns') }}
),

renamed as (
    select
        txn_id as loan_txn_id,
        loan_no as loan_id,
        txn_date,
        txn_kind,
        amount,
        channel as channel_code,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
