with

register_rows as (
    select * from {{ ref('stg_agency__low_income_register') }}
),

-- A listing is one stretch of a household on the register: its head and listing date.
-- FULL files repeat it every January and CHANGE files report it when it starts and when
-- it ends; the latest line says where the household lives and in which category, and any
-- line with a removal date closes the listing (a FULL file never shows removed rows).
ranked_lines as (
    select
        *,
        row_number() over (
            partition by head_id_hash, listed_date
            order by business_date desc, (removed_date is not null) desc, line_number desc
        ) as line_rank
    from register_rows
),

removals as (
    select
        head_id_hash,
        listed_date,
        min(removed_date) as removed_date
    from register_rows
    where removed_date is not null
    group by head_id_hash, listed_date
),

first_reports as (
    select
        head_id_hash,
        listed_date,
        min(business_date) as first_reported_date,
        max(loaded_at) as last_loaded_at
    from register_rows
    group by head_id_hash, listed_date
),

final as (
    select
        ranked_lines.head_id_hash,
        ranked_lines.listed_date,
        removals.removed_date,
        ranked_lines.village_code,
        ranked_lines.low_income_category,
        ranked_lines.household_size,
        first_reports.first_reported_date,
        ranked_lines.business_date as last_reported_date,
        first_reports.last_loaded_at
    from ranked_lines
    inner join first_reports
        on ranked_lines.head_id_hash = first_reports.head_id_hash
        and ranked_lines.listed_date = first_reports.listed_date
    left join removals
        on ranked_lines.head_id_hash = removals.head_id_hash
        and ranked_lines.listed_date = removals.listed_date
    where ranked_lines.line_rank = 1
)

select * from final
