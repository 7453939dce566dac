with

accounts as (
    select * from {{ ref('stg_core_banking__accounts') }}
),

-- The account feed sends an account when it is opened and again when it is closed; its
-- latest row carries its close date. An account counts from its open date until the day
-- before its close date.
latest as (
    select distinct on (account_hash)
        account_hash,
        id_hash,
        is_personal,
        account_type,
        open_date,
        close_date
    from accounts
    order by account_hash, business_date desc, source_updated_at desc
),

final as (
    select
        account_hash,
        id_hash,
        is_personal,
        account_type,
        open_date,
        close_date
    from latest
)

select * from final
