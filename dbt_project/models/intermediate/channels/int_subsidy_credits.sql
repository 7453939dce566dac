with

subsidy_returns as (
    select * from {{ ref('stg_agency__subsidy_returns') }}
),

-- A roster row is credited once; should a return file ever be loaded on two dates, the
-- later delivery is the bank's final word on that row.
latest_results as (
    select
        *,
        row_number() over (
            partition by batch_no, seq_no
            order by business_date desc, line_number desc
        ) as result_rank
    from subsidy_returns
),

final as (
    select
        batch_no,
        seq_no,
        item_code,
        item_code in ('NY01', 'NY02') as is_agricultural_item,
        credit_date,
        village_code,
        beneficiary_id_hash,
        account_bin,
        is_own_bank_account,
        amount
    from latest_results
    where result_rank = 1
        and is_credited
)

select * from final
