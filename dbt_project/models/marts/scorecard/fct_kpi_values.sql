{#
    Every KPI measure of every domain, long: the one table the scorecard, the morning
    report and BI charts of "any KPI over time" read. Each domain's view lists its
    measures with the kpi_long macro.
#}
{#-
    Incremental (rebuild_window): from the earliest date any KPI mart rewrote since this
    table's last build (each KPI mart's own window reaches back as far as its news do).
-#}
{%- set kpi_marts = [
    'kpi_k01_inclusion_investment',
    'kpi_k02_village_station_coverage',
    'kpi_k03_low_income_loans',
    'kpi_k04_credit_loan_growth',
    'kpi_k05_agri_small_micro_balance',
    'kpi_k06_ebanking_customers',
    'kpi_k07_ebanking_substitution',
    'kpi_k08_green_credit_share',
    'kpi_k09_archiving_rate',
    'kpi_k10_literacy_events',
    'kpi_k11_unserved_villages',
    'kpi_k12_community_coverage',
    'kpi_k13_small_credit_loans',
    'kpi_k14_farm_household_loans',
    'kpi_k15_small_micro_loans',
    'kpi_k16_credit_villages',
    'kpi_k17_credit_households',
    'kpi_k18_card_closed_loop',
    'kpi_k19_subsidies_disbursed',
    'kpi_k20_station_services',
    'kpi_k21_manager_weekly_presence',
] -%}
{%- set window = rebuild_window(upstream=kpi_marts) -%}
{%- set domains = [
    'int_kpi_values__network',
    'int_kpi_values__lending',
    'int_kpi_values__archives',
    'int_kpi_values__channels',
] -%}

with

{% for domain in domains %}
{{ domain }} as (
    select * from {{ ref(domain) }}
    where {{ in_window(window) }}
),
{% endfor %}

unioned as (
    {% for domain in domains %}
    select * from {{ domain }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        kpi_id::text as kpi_id,
        measure::text as measure,
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        value::numeric(24, 6) as value,
        numerator::numeric(24, 2) as numerator,
        denominator::numeric(24, 2) as denominator,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from unioned
)

select * from final
