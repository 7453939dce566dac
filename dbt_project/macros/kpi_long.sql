{#
    One KPI measure of a wide kpi_* mart in the long shape the scorecard reads:
    kpi_id, measure, business_date, region_level, region_code, region_name, town_code,
    value, numerator, denominator. Ratios are fractions in [0, 1]; amounts are yuan.
    `value`, `numerator` and `denominator` are column expressions of `relation`.
#}
{% macro kpi_long(relation, kpi_id, measure, value, numerator=none, denominator=none) %}
    select
        '{{ kpi_id }}'::text as kpi_id,
        '{{ measure }}'::text as measure,
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        ({{ value }})::numeric as value,
        ({{ numerator if numerator is not none else 'null' }})::numeric as numerator,
        ({{ denominator if denominator is not none else 'null' }})::numeric as denominator
    from {{ relation }}
{% endmacro %}
