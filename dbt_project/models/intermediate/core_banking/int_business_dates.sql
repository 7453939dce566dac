with

regions as (
    select * from {{ ref('stg_core_banking__regions') }}
),

-- The region table is a full snapshot in every night's core-banking unload, so its batch
-- dates are exactly the business dates the warehouse holds.
final as (
    select distinct business_date
    from regions
)

select * from final
