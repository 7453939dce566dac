with

source as (
    select * from {{ source('core_banking', 'core_banking__loan_balances') }}
),

renamed as (
    select
        loan_no as loan_id,
        balance_date,
        balance as balance_amount,
        overdue_days,
        _batch_id as batch_id,
        _business_date as business_date,
        _source_file as source_file,
        _line_number as line_number,
        _loaded_at as loaded_at
    from source
)

select * from renamed
