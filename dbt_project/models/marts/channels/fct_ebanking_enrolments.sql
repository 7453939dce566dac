with

users as (
    select * from {{ ref('stg_ebanking__users') }}
),

cards as (
    select * from {{ ref('stg_core_banking__cards') }}
),

-- A card's issuing outlet never changes; any version of the card carries it.
card_branches as (
    select distinct on (card_hash)
        card_hash,
        branch_code
    from cards
    order by card_hash, business_date desc
),

final as (
    select
        users.user_id::bigint as user_id,
        users.id_hash::text as id_hash,
        users.card_hash::text as card_hash,
        card_branches.branch_code::text as card_branch_code,
        users.enrolment_channel::text as enrolment_channel,
        users.user_status::text as user_status,
        users.enrolled_at::timestamptz as enrolled_at,
        (users.enrolled_at at time zone 'Asia/Shanghai')::date as enrolled_date,
        -- The platform keeps no closing date: a CLOSED user's last change is the closing.
        case
            when users.user_status = 'CLOSED'
                then (users.updated_at at time zone 'Asia/Shanghai')::date
        end::date as closed_date,
        users.updated_at::timestamptz as updated_at
    from users
    left join card_branches
        on users.card_hash = card_branches.card_hash
)

select * from final
