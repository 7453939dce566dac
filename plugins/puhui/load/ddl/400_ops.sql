-- Pipeline health in the ops schema, beside ops.load_audit (000_schemas.sql). BI reads ops
-- (dbt's grant_bi_access hook grants select on every ops table), so these tables hold no
-- personal data: counts, node names, test names, and alert texts built from them.

-- One row per dbt invocation of a warehouse build (build_warehouse's build_models task).
create table if not exists ops.dbt_invocations (
    invocation_id     text        primary key,      -- dbt's invocation_id
    business_date     date,                         -- the partition the build ran for
    command           text        not null,         -- e.g. "build"
    dag_id            text,
    run_id            text,
    try_number        integer,
    started_at        timestamptz,
    elapsed_seconds   numeric(12, 3),
    status            text        not null,         -- success | warn | error
    nodes_total       integer     not null,
    nodes_error       integer     not null,         -- models/seeds in error, tests failed or in error
    tests_warned      integer     not null,
    recorded_at       timestamptz not null default now()
);
create index if not exists dbt_invocations_date_idx on ops.dbt_invocations (business_date);
-- The dbt project's checksum (puhui.warehouse.dbt.project_checksum) and whether the build
-- ran its unit tests: a nightly build runs them only when no successful build has passed
-- them on the same project (added after the first release: "add column if not exists").
alter table ops.dbt_invocations add column if not exists project_checksum text;
alter table ops.dbt_invocations add column if not exists unit_tests_run boolean;

-- One row per node (model, seed, snapshot, test) of each invocation, from run_results.json.
create table if not exists ops.dbt_node_results (
    invocation_id     text        not null references ops.dbt_invocations (invocation_id)
                                  on delete cascade,
    unique_id         text        not null,         -- model.puhui.kpi_k09_archiving_rate, test.puhui....
    resource_type     text        not null,         -- model | test | seed | snapshot | unit_test
    business_date     date,
    status            text        not null,         -- success | error | skipped | pass | fail | warn
    failures          integer,                      -- failing rows of a test
    execution_seconds numeric(12, 3),
    rows_affected     bigint,
    message           text,
    primary key (invocation_id, unique_id)
);
create index if not exists dbt_node_results_status_idx
    on ops.dbt_node_results (business_date, resource_type, status);

-- Every alert puhui sent (or tried to send): task failures on their final try, dbt test
-- warnings, missed deadlines.
create table if not exists ops.alert_history (
    alert_id          bigserial   primary key,
    kind              text        not null,         -- task_failed | dbt_warning | deadline_missed
    dag_id            text,
    task_id           text,
    run_id            text,
    business_date     date,
    try_number        integer,
    title             text        not null,
    body              text        not null,
    targets           integer     not null,         -- Apprise URLs configured
    delivered         boolean     not null,         -- every target accepted it
    sent_at           timestamptz not null default now()
);
create index if not exists alert_history_sent_idx on ops.alert_history (sent_at);
