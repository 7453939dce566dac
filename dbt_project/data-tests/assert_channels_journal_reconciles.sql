-- The card-flow fact is the journal's card rows without reversed entries: per business
-- date its count and amount equal those of fct_transactions_daily's card rows.
with

transactions as (
    select
        business_date,
        sum(txn_count) as txn_count,
        sum(txn_amount) as txn_amount
    from {{ tested_rows(ref('fct_transactions_daily')) }}
    where is_card_txn and not is_reversed
    group by business_date
),

card_flows as (
    select
        business_date,
        sum(flow_count) as flow_count,
        sum(flow_amount) as flow_amount
    from {{ tested_rows(ref('fct_card_flows_daily')) }}
    group by business_date
)

select
    coalesce(transactions.business_date, card_flows.business_date) as business_date,
    transactions.txn_count,
    card_flows.flow_count,
    transactions.txn_amount,
    card_flows.flow_amount
from transactions
full outer join card_flows
    on transactions.business_date = card_flows.business_date
where transactions.txn_count is distinct from card_flows.flow_count
    or transactions.txn_amount is distinct from card_flows.flow_amount
