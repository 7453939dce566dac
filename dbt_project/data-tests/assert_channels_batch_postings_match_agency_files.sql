-- The journal's batch agency postings (BA) are the successful own-bank rows of the
-- partners' files of the same date: per date and kind, the amounts agree. Severity warn:
-- a partner file that failed its header reconciliation is not loaded, the journal is.
{{ config(severity='warn') }}

with

postings as (
    select
        business_date,
        case txn_type
            when '06' then 'withholding'
            when '07' then 'payroll'
            else 'subsidy_or_pension'
        end as posting_kind,
        sum(flow_amount) as journal_amount
    from {{ tested_rows(ref('fct_card_flows_daily')) }}
    where is_batch_posting
    group by 1, 2
),

disbursements as (
    select
        event_date as business_date,
        case
            when disbursement_kind in ('subsidy', 'pension') then 'subsidy_or_pension'
            else disbursement_kind
        end as posting_kind,
        sum(paid_amount) as agency_amount
    from {{ tested_rows(ref('fct_agency_disbursements'), 'event_date') }}
    where result = 'success'
        and is_own_bank_account
    group by 1, 2
)

select
    postings.business_date,
    postings.posting_kind,
    postings.journal_amount,
    disbursements.agency_amount
from postings
left join disbursements
    on postings.business_date = disbursements.business_date
    and postings.posting_kind = disbursements.posting_kind
where postings.journal_amount is distinct from disbursements.agency_amount
