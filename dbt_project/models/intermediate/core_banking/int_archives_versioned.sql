{#- A table, not a view: see the intermediate layer's note in dbt_project.yml. -#}
{{
    config(
        materialized='table',
        indexes=[{'columns': ['archive_id', 'valid_from_date']}],
    )
}}

with

archives as (
    select * from {{ ref('stg_core_banking__archives') }}
),

-- A changed-rows file may carry one archive twice (two changes on one day): the day's
-- version is its last change.
ranked_changes as (
    select
        *,
        row_number() over (
            partition by archive_id, business_date
            order by source_updated_at desc, line_number desc
        ) as change_rank_in_day
    from archives
),

daily_versions as (
    select * from ranked_changes
    where change_rank_in_day = 1
),

final as (
    select
        archive_id,
        business_date as valid_from_date,
        lead(business_date) over archive_history as valid_to_date,
        lead(business_date) over archive_history is null as is_current_version,
        household_id,
        village_code,
        id_hash,
        id_masked,
        birth_year,
        gender,
        id_region,
        name_hash,
        name_masked,
        mobile_hash,
        mobile_masked,
        archive_date,
        archive_status,
        is_active_archive,
        manager_no,
        annual_income_amount,
        source_updated_at,
        batch_id
    from daily_versions
    window archive_history as (partition by archive_id order by business_date)
)

select * from final
