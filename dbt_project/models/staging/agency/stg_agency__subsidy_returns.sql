with

source as (
    select * from {{ source('agency', 'agency__subsidy_returns') }}
),

renamed as (
    select
        batch_no,
        item_code,
        fund_year,
        pay_date,
        seq_no,
        town_code,
        village_code,
        beneficiary_id_hash,
        beneficiary_birth_year,
        beneficiary_gender,
        beneficiary_id_region,
        account_hash,
        account_bin,
        account_bin = '622858' as is_own_bank_account,
        bank_name,
        amount::numeric(18, 2) as amount,
        status as result_status,
        status = '成功' as is_credited,
        failure_reason,
        credit_date,
        bank_serial_no,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
