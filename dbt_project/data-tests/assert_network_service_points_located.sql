-- Every service point open on a business date that stands in a village must stand in a
-- village of the region snapshot in force that day; otherwise coverage (K02, K11, K12)
-- and the town rows of K20 would miss it.
with

service_points as (
    select * from {{ tested_rows(ref('int_service_points_daily')) }}
),

villages as (
    select * from {{ tested_rows(ref('int_villages_daily')) }}
)

select
    service_points.business_date,
    service_points.service_point_id,
    service_points.service_point_kind,
    service_points.village_code
from service_points
left join villages
    on service_points.business_date = villages.business_date
    and service_points.village_code = villages.village_code
where service_points.is_open
    and service_points.village_code is not null
    and villages.village_code is null
