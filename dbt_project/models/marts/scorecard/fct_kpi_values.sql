{#
    Every KPI measure of every domain, long: the one table the scorecard, the morning
    report and BI charts of "any KPI over time" read. Each domain's view lists its
    measures with the kpi_long macro.
#}
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
        denominator::numeric(24, 2) as denominator
    from unioned
)

select * from final
