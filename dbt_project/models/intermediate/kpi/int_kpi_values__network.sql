-- The network and village domain's KPIs (K01, K02, K10, K11, K12, K20, K21) in the
-- scorecard's long shape (macros/kpi_long.sql); measure names as the scorecard seed keys them.
{{ kpi_long(ref('kpi_k01_inclusion_investment'), 'K01', 'amount', 'cumulative_amount') }}
union all
{{ kpi_long(ref('kpi_k02_village_station_coverage'), 'K02', 'share', 'station_coverage', 'villages_in_scope_with_station', 'villages_in_scope') }}
union all
{{ kpi_long(ref('kpi_k10_literacy_events'), 'K10', 'events', 'events') }}
union all
{{ kpi_long(ref('kpi_k11_unserved_villages'), 'K11', 'villages', 'unserved_villages', 'unserved_villages', 'administrative_villages') }}
union all
{{ kpi_long(ref('kpi_k12_community_coverage'), 'K12', 'share', 'community_coverage', 'communities_with_point', 'communities') }}
union all
{{ kpi_long(ref('kpi_k20_station_services'), 'K20', 'services_per_station', 'services_per_station', 'services_offered', 'open_stations') }}
union all
{{ kpi_long(ref('kpi_k21_manager_weekly_presence'), 'K21', 'share', 'presence_share', 'village_weeks_with_presence', 'village_weeks') }}
