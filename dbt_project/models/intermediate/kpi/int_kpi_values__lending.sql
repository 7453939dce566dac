-- The lending KPIs (K03 K04 K05 K08 K13-K17) in the scorecard's long shape (macros/kpi_long.sql).
{{ kpi_long(ref('kpi_k03_low_income_loans'), 'K03', 'amount', 'low_income_disbursed_amount') }}
union all
{{ kpi_long(ref('kpi_k04_credit_loan_growth'), 'K04', 'amount', 'credit_balance_growth_amount') }}
union all
{{ kpi_long(ref('kpi_k05_agri_small_micro_balance'), 'K05', 'balance', 'agri_or_small_micro_balance_amount') }}
union all
{{ kpi_long(ref('kpi_k08_green_credit_share'), 'K08', 'share', 'green_credit_share', 'green_balance_amount', 'total_balance_amount') }}
union all
{{ kpi_long(ref('kpi_k13_small_credit_loans'), 'K13', 'balance', 'small_credit_balance_amount') }}
union all
{{ kpi_long(ref('kpi_k13_small_credit_loans'), 'K13', 'borrowers', 'small_credit_borrowers') }}
union all
{{ kpi_long(ref('kpi_k14_farm_household_loans'), 'K14', 'balance', 'farm_household_balance_amount') }}
union all
{{ kpi_long(ref('kpi_k14_farm_household_loans'), 'K14', 'borrowers', 'farm_household_borrowers') }}
union all
{{ kpi_long(ref('kpi_k15_small_micro_loans'), 'K15', 'balance', 'small_micro_balance_amount') }}
union all
{{ kpi_long(ref('kpi_k15_small_micro_loans'), 'K15', 'borrowers', 'small_micro_borrowers') }}
union all
{{ kpi_long(ref('kpi_k16_credit_villages'), 'K16', 'share', 'credit_village_share', 'credit_villages', 'administrative_villages') }}
union all
{{ kpi_long(ref('kpi_k17_credit_households'), 'K17', 'share', 'credit_household_share', 'credit_households', 'rated_households') }}
