-- K06, K07, K18, K19 in the scorecard's long shape (macros/kpi_long.sql).
{{ kpi_long(ref('kpi_k06_ebanking_customers'), 'K06', 'customers', 'enrolled_customers') }}
union all
{{ kpi_long(ref('kpi_k07_ebanking_substitution'), 'K07', 'share', 'substitution_rate', 'electronic_txns_mtd', 'financial_txns_mtd') }}
union all
{{ kpi_long(ref('kpi_k18_card_closed_loop'), 'K18', 'share', 'closed_loop_rate', 'in_network_outflow_amount_mtd', 'outflow_amount_mtd') }}
union all
{{ kpi_long(ref('kpi_k19_subsidies_disbursed'), 'K19', 'amount', 'subsidy_amount') }}
union all
{{ kpi_long(ref('kpi_k19_subsidies_disbursed'), 'K19', 'recipients', 'recipients') }}
union all
{{ kpi_long(ref('kpi_k19_subsidies_disbursed'), 'K19', 'own_card_share', 'own_card_share', 'own_card_amount', 'subsidy_amount') }}
