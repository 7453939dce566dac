-- K09 in the scorecard's long shape (macros/kpi_long.sql).
{{ kpi_long(ref('kpi_k09_archiving_rate'), 'K09', 'share', 'archiving_rate', 'archived_households', 'households_in_scope') }}
