with

source as (
    select * from {{ source('core_banking', 'core_banking__txns') }}
),

-- Masked account and card numbers are left out: nothing downstream needs them, and the
-- journal is the largest table of the warehouse.
renamed as (
    select
        txn_id,
        txn_date,
        txn_time,
        account_hash,
        account_branch as account_branch_code,
        account_product,
        card_hash,
        card_bin,
        channel_code,
        txn_type,
        direction,
        amount::numeric(18, 2) as txn_amount,
        counterparty_bank_code,
        is_internal = '1' as is_internal,
        reversal_flag = '1' as is_reversed,
        branch_code,
        memo,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
