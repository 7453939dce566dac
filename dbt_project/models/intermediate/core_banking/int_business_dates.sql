{#-
    A table, built incrementally (rebuild_window): every mart reads the business dates,
    and a view would scan every region snapshot of the history each time.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='rebuild_window',
        on_schema_change='fail',
        indexes=[{'columns': ['business_date'], 'unique': true}],
    )
}}
{%- set window = rebuild_window() -%}

with

regions as (
    select * from {{ ref('stg_core_banking__regions') }}
    where {{ in_window(window) }}
),

-- The region table is a full snapshot in every night's core-banking unload, so its batch
-- dates are exactly the business dates the warehouse holds.
final as (
    select distinct
        business_date,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from regions
)

select * from final
