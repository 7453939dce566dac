with

ratings as (
    select * from {{ ref('stg_core_banking__credit_ratings') }}
),

-- The journal should carry each rating once; if a batch is re-sent under a later date,
-- the latest delivery wins.
deduplicated as (
    select
        *,
        row_number() over (
            partition by rating_id order by business_date desc, line_number desc
        ) as delivery_rank
    from ratings
),

final as (
    select
        rating_id::text as rating_id,
        rating_type::text as rating_type,
        (case rating_type when '1' then 'household' when '2' then 'village' end)::text
            as rated_subject,
        household_id::text as household_id,
        village_code::text as village_code,
        rating_year::integer as rating_year,
        rated_date::date as rated_date,
        grade::text as grade,
        (grade in ('AAA', 'AA', 'A', 'Y'))::boolean as is_credit_rated,
        credit_household_share::numeric(9, 6) as credit_household_share,
        batch_id::text as batch_id
    from deduplicated
    where delivery_rank = 1
)

select * from final
