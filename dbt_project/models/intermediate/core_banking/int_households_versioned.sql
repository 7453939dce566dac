{#- A table, not a view: see the intermediate layer's note in dbt_project.yml. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['household_id', 'valid_from_date']}],
    )
}}

with

households as (
    select * from {{ ref('stg_core_banking__households') }}
),

-- A changed-rows file may carry one household twice (two changes on one day): the
-- day's version is its last change.
ranked_changes as (
    select
        *,
        row_number() over (
            partition by household_id, business_date
            order by source_updated_at desc, line_number desc
        ) as change_rank_in_day
    from households
),

daily_versions as (
    select * from ranked_changes
    where change_rank_in_day = 1
),

final as (
    select
        household_id,
        business_date as valid_from_date,
        lead(business_date) over household_history as valid_to_date,
        lead(business_date) over household_history is null as is_current_version,
        village_code,
        head_id_hash,
        head_id_masked,
        head_birth_year,
        head_gender,
        head_id_region,
        head_name_hash,
        head_name_masked,
        member_count,
        household_type,
        is_agricultural_household,
        register_date,
        cancel_date,
        source_updated_at,
        batch_id
    from daily_versions
    window household_history as (partition by household_id order by business_date)
)

select * from final
