-- K05: the agriculture-related ∪ small/micro balance is at most the sum of its parts and
-- at least each part, in every region on every day.
select
    business_date,
    region_level,
    region_code,
    agri_balance_amount,
    small_micro_balance_amount,
    agri_or_small_micro_balance_amount
from {{ tested_rows(ref('kpi_k05_agri_small_micro_balance')) }}
where agri_or_small_micro_balance_amount > agri_balance_amount + small_micro_balance_amount
    or agri_or_small_micro_balance_amount < agri_balance_amount
    or agri_or_small_micro_balance_amount < small_micro_balance_amount
