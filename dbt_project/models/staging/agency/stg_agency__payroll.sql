with

source as (
    select * from {{ source('agency', 'agency__payroll') }}
),

renamed as (
    select
        batch_no,
        employer_name,
        employer_uscc,
        payroll_type,
        pay_period,
        pay_date,
        seq_no,
        employee_id_hash,
        employee_birth_year,
        employee_gender,
        employee_id_region,
        account_hash,
        account_bin,
        bank_code,
        bank_code = '314' as is_own_bank_account,
        bank_name,
        amount::numeric(18, 2) as amount,
        memo,
        result as result_status,
        result = '成功' as is_credited,
        failure_reason,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
