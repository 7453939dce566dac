{#
    Fails for every combination of `combination_of_columns` that occurs more than once.
    A composite-key uniqueness test (dbt_utils is not reachable from these machines).
#}
{% test unique_combination(model, combination_of_columns) %}

{%- set columns_csv = combination_of_columns | join(', ') %}

select
    {{ columns_csv }},
    count(*) as occurrences
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
