{#
    Rebuild windows of the incremental marts (issue #7).

    Each night an incremental mart deletes and rebuilds its rows from one business date
    onwards: the earliest business date of any raw batch loaded since the mart's own last
    build (ops.load_audit against the newest `built_from_loaded_at` in the mart), or an
    earlier date that news in those batches reach back to (a literacy event reported a
    month late, a low-income listing dated last month: `news`), or the earliest date an
    upstream incremental mart rewrote since (`upstream`). Every date from there on is
    rebuilt, so cumulative, month-to-date and growth-from-baseline figures stay exact and
    a late batch for an old date gives the marts of loading in order.

    Every table built this way has an index on `built_from_loaded_at`: the window reads
    its newest value every night, and without the index that read scans the table (2.8 s
    for fct_kpi_values' 14 million rows on five years at scale 0.01, growing every day).

    The window is computed at compile time (run_query) and inlined as a literal: a literal
    lets PostgreSQL use the business_date indexes and push the window into the views,
    where a runtime subquery made it scan every date. Rows read from earlier dates (the
    input of a running total, a baseline) come from upstream models, never from the mart
    itself.
#}

{#-
    The newest batch loaded (ops.load_audit.finished_at of a loaded batch), as a SQL
    literal: the watermark a build stores in its rows as built_from_loaded_at. Read before
    anything else the build reads, so a batch finishing meanwhile is read again by the
    next build rather than missed. '-infinity' at parse time and in unit tests.
-#}
{% macro load_watermark() %}
    {%- if not execute -%}
        {%- do source('ops', 'load_audit') -%}
    {%- endif -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return("'-infinity'::timestamptz") }}
    {%- endif -%}
    {%- set value = run_query(
        "select coalesce(max(finished_at), '-infinity'::timestamptz)::text"
        ~ " from " ~ source('ops', 'load_audit') ~ " where status = 'loaded'"
    ).columns[0].values()[0] -%}
    {{ return("'" ~ value ~ "'::timestamptz") }}
{% endmacro %}

{#-
    The watermark of the incremental model's last build (the newest built_from_loaded_at
    it holds), as a SQL literal ('-infinity' when empty). Read at compile time and
    inlined: as a subquery's value it left the planner guessing, and it walked each
    upstream mart's whole date index for a min() that matched nothing (4.8 s of
    fct_kpi_values' window on five years at scale 0.01, 28 ms with the literal). The
    column is indexed in every model that has it.
-#}
{% macro built_watermark() %}
    {%- set value = run_query(
        "select coalesce(max(built_from_loaded_at), '-infinity'::timestamptz)::text from "
        ~ this
    ).columns[0].values()[0] -%}
    {{ return("'" ~ value ~ "'::timestamptz") }}
{% endmacro %}

{#-
    The rebuild window of the model being compiled: a dict with
      from_date  'YYYY-MM-DD' of the first date rebuilt; none for a full build (every
                 date); '9999-12-31' when nothing was loaded since the last build;
      loaded_at  SQL literal of the newest loaded batch the build sees, stored in the rows
                 as built_from_loaded_at (read before the window, so a batch finishing in
                 between is rebuilt again next time rather than missed).
    news: dicts {model, date, where?}: `model` names a staging model (business_date and
          loaded_at columns); its rows loaded since the last build move the window back
          to their earliest `date` (an expression over `news`, the new row; `where` an
          extra condition; in both, `__relation__` names the model and `built.loaded_at`
          is the last build's watermark).
    upstream: incremental models carrying built_from_loaded_at, each a name or a dict
          {model, date}; the window moves back to the earliest business date (or `date`,
          a column or SQL over alias `rewritten`) of their rows written since this
          model's last build.
    Models are named, not ref()'d by the caller: the refs are declared here at parse time
    and resolved only for a real incremental build, so unit tests need no fixture for them.
    A unit test builds every date, or, to test a nightly build (with is_incremental
    overridden and `this` given), the dates from its var `unit_test_window_from`.
-#}
{% macro rebuild_window(news=[], upstream=[]) %}
    {%- set loaded_at = load_watermark() -%}
    {%- if not execute -%}
        {#- parse time: declare the dependencies -#}
        {%- for item in news %}{% do ref(item['model']) %}{% endfor -%}
        {%- for item in upstream %}{% do ref(item if item is string else item['model']) %}{% endfor -%}
        {{ return({'from_date': none, 'loaded_at': loaded_at}) }}
    {%- endif -%}
    {%- if model.resource_type == 'unit_test' -%}
        {#- a unit test of a nightly build names its window: var unit_test_window_from -#}
        {{ return({'from_date': var('unit_test_window_from', none), 'loaded_at': loaded_at}) }}
    {%- endif -%}
    {%- if not is_incremental() -%}
        {{ return({'from_date': none, 'loaded_at': loaded_at}) }}
    {%- endif -%}
    {%- set built_at = built_watermark() -%}
    {%- set sql -%}
        with built as (
            select {{ built_at }} as loaded_at
        ),

        new_batches as (
            select min(load_audit.business_date) as from_date
            from {{ source('ops', 'load_audit') }} as load_audit
            cross join built
            where load_audit.status = 'loaded'
                and load_audit.finished_at > {{ built_at }}
        )

        select coalesce(
            least(
                new_batches.from_date
                {%- for item in news %}
                {%- set relation = ref(item['model']) | string %},
                (
                    select min({{ item['date'] | replace('__relation__', relation) }})
                    from {{ relation }} as news
                    where news.business_date >= new_batches.from_date
                        and news.loaded_at > {{ built_at }}
                        {%- if item.get('where') %}
                        and {{ item['where'] | replace('__relation__', relation) }}
                        {%- endif %}
                )
                {%- endfor %}
                {%- for item in upstream %},
                (
                    select min({{ 'rewritten.business_date' if item is string else item['date'] }})
                    from {{ ref(item if item is string else item['model']) }} as rewritten
                    where rewritten.built_from_loaded_at > {{ built_at }}
                )
                {%- endfor %}
            ),
            '9999-12-31'::date
        )::text
        from new_batches
        cross join built
    {%- endset -%}
    {%- set from_date = run_query(sql).columns[0].values()[0] -%}
    {{ return({'from_date': from_date, 'loaded_at': loaded_at}) }}
{% endmacro %}

{#-
    A predicate true for the dates of `column` the build rewrites (`true` for a full
    build). `period` ('month', 'year') widens it to the start of the first rewritten
    date's month or year: the input a month- or year-to-date window needs. Put it where a
    model reads the relation that drives its dates (the business dates, a daily fact),
    never on inputs that earlier dates feed (a running total, a baseline).
-#}
{% macro in_window(window, column='business_date', period=none) %}
    {%- if window['from_date'] is none -%}
        true
    {%- elif period is none -%}
        {{ column }} >= '{{ window['from_date'] }}'::date
    {%- else -%}
        {{ column }} >= date_trunc('{{ period }}', '{{ window['from_date'] }}'::date)::date
    {%- endif -%}
{% endmacro %}

{#-
    News for rebuild_window of a staging model whose rows report things that open and
    close (an account, an enrolment, a low-income listing), each row the thing's state
    when its batch was cut: a thing not known before (`key`: the columns naming it, its
    opening among them) moves the window back to its opening; a known thing closing moves
    it back only to the earliest of its closings reported so far (the days before stand);
    a row the known rows already say (`same`: by default the same closing) is no news.
    `opened` and `closed` are SQL over a row alias written `{t}`; `same` over the aliases
    `news` and `known`.
-#}
{% macro closing_news(model, key, opened, closed, same=none) %}
    {%- set matches = [] -%}
    {%- for column in key %}{% do matches.append('known.' ~ column ~ ' = news.' ~ column) %}{% endfor -%}
    {%- set known = 'from __relation__ as known where known.loaded_at <= built.loaded_at and '
        ~ matches | join(' and ') -%}
    {%- set news_closed = closed | replace('{t}', 'news') -%}
    {%- set known_closed = closed | replace('{t}', 'known') -%}
    {{ return({
        'model': model,
        'date': 'coalesce((select least(' ~ news_closed ~ ', min(' ~ known_closed ~ ')) '
            ~ known ~ ' having count(*) > 0), least(' ~ opened | replace('{t}', 'news')
            ~ ', ' ~ news_closed ~ '))',
        'where': 'not exists (select 1 ' ~ known ~ ' and '
            ~ (same or known_closed ~ ' is not distinct from ' ~ news_closed) ~ ')',
    }) }}
{% endmacro %}

{#-
    News of the low-income register (the lending marts): a listing not known before moves
    the window back to its listing date, a removal of a known listing only to its removal
    date (loans disbursed before it keep their flag); a yearly FULL file repeating known
    listings is no news.
-#}
{% macro low_income_register_news() %}
    {{ return(closing_news(
        'stg_agency__low_income_register',
        key=['head_id_hash', 'listed_date'],
        opened='{t}.listed_date',
        closed='{t}.removed_date',
    )) }}
{% endmacro %}

{#-
    The upstream of K19 and int_subsidy_village_days for rebuild_window: the subsidy
    rosters whose results a build replaced (int_subsidy_roster_changes), from the earliest
    credit date their rows held before the build or hold after it. A new result can credit
    a row, and a result corrected or withdrawn by a reload takes back the credit of the
    earlier one, whose date only int_subsidy_results knew.
-#}
{% macro subsidy_roster_changes() %}
    {{ return({'model': 'int_subsidy_roster_changes', 'date': 'rewritten.from_credit_date'}) }}
{% endmacro %}

{#-
    Incremental strategy `rebuild_window` (incremental_strategy='rebuild_window'): delete
    the target's rows from the first date the new build holds (config
    `rebuild_date_column`, default business_date) and insert the new build. The model
    builds every date of its window, so the window's first date is the first date of the
    new rows; an empty build (nothing loaded) deletes nothing. A model whose dates are
    sparse (a credit date), so that the window's first date may hold no row any more,
    names it with a placeholder row that config `placeholder_where` tells apart: it is
    not inserted.
-#}
{% macro get_incremental_rebuild_window_sql(arg_dict) %}
    {%- set placeholder = config.get('placeholder_where') -%}
    {{ return(delete_then_insert(
        arg_dict,
        config.get('rebuild_date_column', 'business_date'),
        '>= (select min({c}) from {new})',
        'not (' ~ placeholder ~ ')' if placeholder else none,
    )) }}
{% endmacro %}

{#-
    The statements of the custom strategies: delete the target's rows whose `column`
    satisfies `condition` (`{c}` the column, `{new}` the new rows), then insert the new
    rows (those satisfying `insert_where`, if given).
-#}
{% macro delete_then_insert(arg_dict, column, condition, insert_where=none) %}
    {%- set new_rows = arg_dict['temp_relation'] | string -%}
    {%- set dest_cols_csv = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set sql -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ column }} {{ condition | replace('{c}', column) | replace('{new}', new_rows) }};

    insert into {{ arg_dict['target_relation'] }} ({{ dest_cols_csv }})
    select {{ dest_cols_csv }}
    from {{ new_rows }}
    {%- if insert_where %}
    where {{ insert_where }}
    {%- endif %}
    {%- endset -%}
    {{ return(sql) }}
{% endmacro %}

{#-
    Incremental strategy `rebuild_dates` (incremental_strategy='rebuild_dates'): dbt's
    delete+insert on a date (config `rebuild_date_column`, default business_date), with
    the dates of the new build read into an array first. dbt's own delete joins the
    target to the new rows, which have no statistics yet, and the planner scanned the
    whole target for a night's one date (166 ms of fct_loan_balances_daily's 1 M rows on
    five years at scale 0.01, growing every night); with the array (an InitPlan) the
    delete walks the date's index (0.7 ms). The same rows are deleted and inserted.
-#}
{% macro get_incremental_rebuild_dates_sql(arg_dict) %}
    {{ return(delete_then_insert(
        arg_dict,
        config.get('rebuild_date_column', 'business_date'),
        '= any(array(select distinct {c} from {new}))',
    )) }}
{% endmacro %}

{#-
    Incremental strategy `replace_keys` (incremental_strategy='replace_keys'): dbt's
    delete+insert on `unique_key` (through the key's index, as rebuild_dates), for a model
    that must also remove keys it holds no rows for any more: the new build names such a
    key with a placeholder row, which config `placeholder_where` (a condition true for
    placeholders only) tells apart. The target's rows of every key of the new build are
    deleted, and the new rows other than placeholders inserted.
-#}
{% macro get_incremental_replace_keys_sql(arg_dict) %}
    {{ return(delete_then_insert(
        arg_dict,
        arg_dict['unique_key'],
        '= any(array(select distinct {c} from {new}))',
        'not (' ~ config.require('placeholder_where') ~ ')',
    )) }}
{% endmacro %}

{#-
    News of the division register (population by village): a register is in force from
    its statistical date, the first one also before it, so a register for an earlier
    statistical date than any known one moves the window back to the beginning.
-#}
{% macro division_register_news() %}
    {{ return({
        'model': 'stg_agency__division_register',
        'date': "case when news.stat_date <= coalesce((select min(known.stat_date)"
            ~ " from __relation__ as known where known.loaded_at <= built.loaded_at),"
            ~ " news.stat_date) then '0001-01-01'::date else news.stat_date end",
    }) }}
{% endmacro %}

{#-
    The SQL date from which a nightly build's data tests look at rows: the session
    setting `puhui.test_from_date` (the first business date the build rewrote;
    puhui.warehouse.dbt.build sets it through PGOPTIONS), else 0001-01-01, every row.
    A setting read when the test runs, not a dbt var: a var that changes every night would
    make dbt re-parse the whole project every night. Generic tests carry the same
    expression in their `config: where:` (a YAML anchor per schema file).
-#}
{% macro test_from_date() -%}
    coalesce(nullif(current_setting('puhui.test_from_date', true), '')::date, '0001-01-01')
{%- endmacro %}

{#-
    The rows of `relation` a nightly build's singular data tests look at: those from
    test_from_date(), `lookback_days` earlier for a test comparing a day with the one
    before; every row outside a nightly build. Generic tests use `config: where:` instead.
-#}
{% macro tested_rows(relation, column='business_date', lookback_days=0) %}
    (
        select * from {{ relation }}
        where {{ column }} >= {{ test_from_date() }} - {{ lookback_days }}
    ) as {{ relation.identifier }}
{% endmacro %}

{#-
    For the incremental facts that keep their own watermark (the newest source_loaded_at
    they hold): a literal lower bound on the business dates their new raw rows can have,
    the earliest business date of a batch of `source_system`.`table_name` (ops.load_audit;
    `table_name` may be a list) finished after that watermark. Read at compile time, it lets the raw table's business-date index
    narrow the scan that the watermark comparison alone would make over every row.
    '0001-01-01' for a full build; '9999-12-31' when no such batch exists. Those facts
    index source_loaded_at: without the index, max(source_loaded_at) scans the whole table
    (157 ms of fct_transactions_daily's 1.6 M rows on five years at scale 0.01).
-#}
{% macro loaded_since_date(source_system, table_name, watermark_column='source_loaded_at') %}
    {%- if not execute -%}
        {%- do source('ops', 'load_audit') -%}
        {{ return('0001-01-01') }}
    {%- endif -%}
    {%- if model.resource_type == 'unit_test' or not is_incremental() -%}
        {{ return('0001-01-01') }}
    {%- endif -%}
    {%- set tables = [table_name] if table_name is string else table_name -%}
    {%- set sql -%}
        select coalesce(min(load_audit.business_date), '9999-12-31'::date)::text
        from {{ source('ops', 'load_audit') }} as load_audit
        where load_audit.status = 'loaded'
            and load_audit.source_system = '{{ source_system }}'
            and load_audit.table_name in ('{{ tables | join("', '") }}')
            and load_audit.finished_at > (
                select coalesce(max({{ watermark_column }}), '-infinity'::timestamptz)
                from {{ this }}
            )
    {%- endset -%}
    {{ return(run_query(sql).columns[0].values()[0]) }}
{% endmacro %}

{#-
    Post-hook: ANALYZE a table PostgreSQL has never analysed (just created by a full
    build). Without statistics the planner takes a nightly window on business_date for a
    third of the table and scans it whole; once analysed, a date past the histogram is
    estimated from the index, so the nightly builds need no ANALYZE of their own.
-#}
{% macro analyze_if_never_analyzed() %}
    {%- if model.config.materialized in ('table', 'incremental') -%}
        do $analyze$
        begin
            if not exists (
                select 1
                from pg_stat_user_tables
                where relid = '{{ this }}'::regclass
                    and coalesce(last_analyze, last_autoanalyze) is not null
            ) then
                analyze {{ this }};
            end if;
        end
        $analyze$
    {%- endif -%}
{% endmacro %}

{#-
    A filter on a table of full snapshots (one batch per business date, in force until the
    next): the snapshots from `from_date` on and the one in force on `from_date` itself;
    every snapshot when `from_date` is none (a full build).
-#}
{% macro snapshots_in_force_from(relation, from_date, column='business_date') -%}
    {%- if from_date is none -%}
        true
    {%- else -%}
        {{ column }} >= coalesce(
            (
                select max({{ column }}) from {{ relation }}
                where {{ column }} <= '{{ from_date }}'::date
            ),
            '{{ from_date }}'::date
        )
    {%- endif -%}
{%- endmacro %}

{#-
    A predicate for a table of full snapshots rebuilt with the rebuild window: true for the
    snapshots from the last one before the window's first date on (the interval of that
    one ends at the window's first new snapshot, so it is rebuilt too); `true` for a full
    build. The date is read at compile time from `relation` (the snapshot dates, a small
    table) and inlined as a literal, so the filter reaches the business-date index.
-#}
{% macro from_snapshot_before_window(window, relation, column='business_date') -%}
    {%- if window['from_date'] is none or not execute -%}
        true
    {%- else -%}
        {%- set first = run_query(
            "select coalesce(max(business_date), '" ~ window['from_date'] ~ "'::date)::text"
            ~ " from " ~ relation ~ " where business_date < '" ~ window['from_date'] ~ "'::date"
        ).columns[0].values()[0] -%}
        {{ column }} >= '{{ first }}'::date
    {%- endif -%}
{%- endmacro %}
