-- Raw core-banking tables of the bank network, lending and deposits (see
-- docs/data-dictionary/bank_network.md, lending.md, deposits.md). Same conventions as
-- 100_raw_core_banking.sql: source column names kept, personal data replaced at load time
-- by <field>_hash (HMAC-SHA256 truncated to 128 bits, 32 hex digits, key PUHUI_PII_KEY) and <field>_masked plus safe derived
-- attributes, load metadata in underscore columns, each (table, _business_date) batch
-- replaced whole inside one transaction.

-- CBS_OUTLET: outlets and service points, full snapshot (closed ones included).
create table if not exists raw.core_banking__outlets (
    outlet_code              text not null,
    outlet_name              text not null,
    outlet_type              text not null,
    parent_outlet_code       text,
    town_code                text not null,
    town_name                text not null,
    village_code             text,
    opened_date              date not null,
    closed_date              date,
    service_count            smallint,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__outlets_bd_idx
    on raw.core_banking__outlets (_business_date);

-- CBS_TERMINAL: terminals, full snapshot (removed ones included).
create table if not exists raw.core_banking__terminals (
    terminal_id              text not null,
    terminal_type            text not null,
    outlet_code              text not null,
    village_code             text,
    installed_date           date not null,
    removed_date             date,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__terminals_bd_idx
    on raw.core_banking__terminals (_business_date);

-- CBS_MANAGER: customer managers x grid village, full snapshot. The manager's name
-- is personal data (an employee's): hashed and masked.
create table if not exists raw.core_banking__managers (
    manager_no               text not null,
    manager_name_hash        text not null,
    manager_name_masked      text not null,
    gender                   text not null,
    outlet_code              text not null,
    grid_code                text not null,
    village_code             text not null,
    hired_date               date not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__managers_bd_idx
    on raw.core_banking__managers (_business_date);

-- CBS_VISIT: managers' village visits, journal of the business date.
create table if not exists raw.core_banking__visits (
    visit_id                 text not null,
    visit_date               date not null,
    manager_no               text not null,
    village_code             text not null,
    purpose_code             text not null,
    households_visited       integer not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__visits_bd_idx
    on raw.core_banking__visits (_business_date);

-- CBS_INVESTMENT: investment and fee-waiver ledger entries, journal of the date.
create table if not exists raw.core_banking__investments (
    entry_id                 text not null,
    entry_date               date not null,
    category_code            text not null,
    category_name            text not null,
    outlet_code              text not null,
    village_code             text,
    amount                   numeric(18, 2) not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__investments_bd_idx
    on raw.core_banking__investments (_business_date);

-- CBS_CUSTOMER: loan customers, changed rows. Individuals' ID, name and mobile are
-- hashed and masked; an enterprise's name (enterprise_name) and USCC stay readable.
-- org_name: an individual business's registered name with the owner's name masked in it
-- (上虞区蒋**五金店).
create table if not exists raw.core_banking__customers (
    cust_no                  text not null,
    cust_type                text not null,
    id_hash                  text,
    id_masked                text,
    birth_year               smallint,
    gender                   text,
    id_region                text,
    cust_name_hash           text,
    cust_name_masked         text,
    enterprise_name          text,
    mobile_hash              text,
    mobile_masked            text,
    uscc                     text,
    org_name                 text,
    borrower_class           text not null,
    ent_size                 text,
    is_individual_business   text not null,
    is_sme_owner             text not null,
    village_code             text not null,
    credit_line              numeric(18, 2) not null,
    open_date                date not null,
    update_time              timestamp not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__customers_bd_idx
    on raw.core_banking__customers (_business_date);

-- CBS_LOAN: loan contracts, changed rows (disbursed, first overdue or settled).
create table if not exists raw.core_banking__loans (
    loan_no                  text not null,
    cust_no                  text not null,
    product_code             text not null,
    product_name             text not null,
    borrower_class           text not null,
    guarantee_type           text not null,
    purpose                  text not null,
    is_agri                  text not null,
    agri_basis               text,
    green_category           text,
    inclusive_sme_flag       text not null,
    contract_amount          numeric(18, 2) not null,
    disburse_date            date not null,
    maturity_date            date not null,
    term_months              smallint not null,
    repay_method             text not null,
    interest_rate            numeric(8, 4) not null,
    status                   text not null,
    settle_date              date,
    update_time              timestamp not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__loans_bd_idx
    on raw.core_banking__loans (_business_date);

-- CBS_LOAN_BALANCE: end-of-day balance of every live loan (daily snapshot).
create table if not exists raw.core_banking__loan_balances (
    loan_no                  text not null,
    balance_date             date not null,
    balance                  numeric(18, 2) not null,
    overdue_days             integer not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__loan_balances_bd_idx
    on raw.core_banking__loan_balances (_business_date);

-- CBS_LOAN_TXN: disbursements and repayments, journal of the business date.
create table if not exists raw.core_banking__loan_txns (
    txn_id                   text not null,
    loan_no                  text not null,
    txn_date                 date not null,
    txn_kind                 text not null,
    amount                   numeric(18, 2) not null,
    channel                  text not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__loan_txns_bd_idx
    on raw.core_banking__loan_txns (_business_date);

-- CBS_CREDIT_RATING: credit households and villages, journal (annual).
create table if not exists raw.core_banking__credit_ratings (
    rating_id                text not null,
    rating_type              text not null,
    household_id             text,
    village_code             text not null,
    rating_year              smallint not null,
    grade                    text not null,
    credit_household_share   numeric(6, 4),
    rated_date               date not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__credit_ratings_bd_idx
    on raw.core_banking__credit_ratings (_business_date);

-- CBS_ACCOUNT: deposit accounts, changed rows. Every account number is hashed
-- (account_hash joins to cards and txns); persons' ID numbers are hashed and masked,
-- an enterprise's USCC stays readable in uscc.
create table if not exists raw.core_banking__accounts (
    account_hash             text not null,
    account_masked           text not null,
    account_branch           text not null,
    account_product          text not null,
    customer_type            text not null,
    id_hash                  text not null,
    id_masked                text,
    birth_year               smallint,
    gender                   text,
    id_region                text,
    uscc                     text,
    account_type             text not null,
    branch_code              text not null,
    currency                 text not null,
    open_date                date not null,
    close_date               date,
    status                   text not null,
    update_time              timestamp not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__accounts_bd_idx
    on raw.core_banking__accounts (_business_date);

-- CBS_CARD: IC cards, changed rows. Card, ID and account numbers hashed and masked;
-- card_bin (first 6 digits) kept.
create table if not exists raw.core_banking__cards (
    card_hash                text not null,
    card_masked              text not null,
    card_bin                 text not null,
    id_hash                  text not null,
    id_masked                text not null,
    birth_year               smallint not null,
    gender                   text not null,
    id_region                text not null,
    account_hash             text not null,
    account_masked           text not null,
    account_branch           text not null,
    account_product          text not null,
    card_type                text not null,
    branch_code              text not null,
    issue_date               date not null,
    status                   text not null,
    status_date              date not null,
    update_time              timestamp not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
create index if not exists core_banking__cards_bd_idx
    on raw.core_banking__cards (_business_date);

-- CBS_TXN: transaction journal of the business date. Account and card numbers hashed
-- and masked; card_bin kept.
create table if not exists raw.core_banking__txns (
    txn_id                   text not null,
    txn_date                 date not null,
    txn_time                 time not null,
    account_hash             text not null,
    account_masked           text not null,
    account_branch           text not null,
    account_product          text not null,
    card_hash                text,
    card_masked              text,
    card_bin                 text,
    channel_code             text not null,
    txn_type                 text not null,
    direction                text not null,
    amount                   numeric(18, 2) not null,
    counterparty_bank_code   text,
    is_internal              text not null,
    reversal_flag            text not null,
    branch_code              text not null,
    memo                     text not null,
    _batch_id                text not null,
    _business_date           date not null,
    _source_file             text not null,
    _line_number             integer not null,
    _loaded_at               timestamptz not null
);
-- A BRIN index, not a B-tree: the journal is appended one business date at a time, so
-- block ranges follow the date, and a B-tree over half a million equal keys costs the
-- nightly COPY about a third more server time (bench-load). Installations created
-- before the switch lose the old B-tree here once.
drop index if exists raw.core_banking__txns_bd_idx;
create index if not exists core_banking__txns_bd_brin
    on raw.core_banking__txns using brin (_business_date);
