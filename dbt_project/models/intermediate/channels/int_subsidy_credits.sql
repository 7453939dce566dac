with

subsidy_results as (
    select * from {{ ref('int_subsidy_results') }}
),

final as (
    select
        batch_no,
        seq_no,
        item_code,
        is_agricultural_item,
        credit_date,
        village_code,
        beneficiary_id_hash,
        account_bin,
        is_own_bank_account,
        amount
    from subsidy_results
    where is_credited
)

select * from final
