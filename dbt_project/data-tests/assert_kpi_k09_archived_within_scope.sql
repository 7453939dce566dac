-- K09: a region can never have more archived households than households in scope.
select
    business_date,
    region_level,
    region_code,
    households_in_scope,
    archived_households
from {{ tested_rows(ref('kpi_k09_archiving_rate')) }}
where archived_households > households_in_scope
