with

source as (
    select * from {{ source('ebanking', 'ebanking__transactions') }}
),

renamed as (
    select
        txn_id as eb_txn_id,
        user_id,
        card_hash,
        card_bin,
        account_hash,
        txn_type as eb_txn_type,
        channel as eb_channel,
        amount::numeric(18, 2) as txn_amount,
        counterparty_bank as counterparty_bank_code,
        status as eb_txn_status,
        fail_reason,
        cbs_txn_id,
        created_at,
        updated_at,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _loaded_at as loaded_at
    from source
)

select * from renamed
