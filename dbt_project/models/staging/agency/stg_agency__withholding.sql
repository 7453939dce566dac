with

source as (
    select * from {{ source('agency', 'agency__withholding') }}
),

renamed as (
    select
        batch_no,
        utility_name,
        fee_code,
        fee_name,
        debit_date,
        seq_no,
        payer_no,
        card_hash,
        card_bin,
        bill_period,
        usage_quantity,
        due_amount::numeric(18, 2) as due_amount,
        paid_amount::numeric(18, 2) as paid_amount,
        status as result_status,
        status = 'S' as is_debited,
        failure_reason,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
