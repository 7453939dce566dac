{#
    The read-only role BI tools log in as (PUHUI_BI_ROLE, default puhui_bi; password
    PUHUI_BI_PASSWORD, passed to dbt as PUHUI_DBT_BI_*). Run after every dbt invocation
    (on-run-end), so a fresh warehouse gets it on its first build and a changed password
    applies on the next one.

    It may connect, use the `marts` and `ops` schemas and select from their tables (also
    tables created later, through default privileges), and nothing else: no usage on
    raw, quarantine, staging or intermediate (revoked explicitly in case someone granted
    it), no write, no create. PUBLIC's default privileges in the `public` schema are left
    to the administrator; puhui keeps nothing there.
#}
{% macro grant_bi_access() %}
    {% if execute %}
        {% set role = env_var('PUHUI_DBT_BI_ROLE', 'puhui_bi') %}
        {% set password = env_var('PUHUI_DBT_BI_PASSWORD', '') %}
        {% set readable = ['marts', 'ops'] %}
        {% set restricted = ['raw', 'quarantine', 'staging', 'intermediate'] %}
        {% set statements = [] %}
        {% do statements.append(
            "do $$ begin if not exists (select from pg_roles where rolname = '" ~ role ~ "') then "
            ~ "create role " ~ adapter.quote(role) ~ " login nosuperuser nocreatedb nocreaterole noinherit; "
            ~ "end if; end $$"
        ) %}
        {% if password %}
            {% do statements.append(
                "alter role " ~ adapter.quote(role) ~ " login password '" ~ password | replace("'", "''") ~ "'"
            ) %}
        {% endif %}
        {% do statements.append("grant connect on database " ~ adapter.quote(target.dbname) ~ " to " ~ adapter.quote(role)) %}
        {% for schema in readable %}
            {% do statements.append("create schema if not exists " ~ schema) %}
            {% do statements.append("grant usage on schema " ~ schema ~ " to " ~ adapter.quote(role)) %}
            {% do statements.append("grant select on all tables in schema " ~ schema ~ " to " ~ adapter.quote(role)) %}
            {% do statements.append(
                "alter default privileges in schema " ~ schema ~ " grant select on tables to " ~ adapter.quote(role)
            ) %}
        {% endfor %}
        {% for schema in restricted %}
            {% do statements.append(
                "do $$ begin if exists (select from pg_namespace where nspname = '" ~ schema ~ "') then "
                ~ "revoke all on schema " ~ schema ~ " from " ~ adapter.quote(role) ~ ", public; "
                ~ "revoke all on all tables in schema " ~ schema ~ " from " ~ adapter.quote(role) ~ ", public; "
                ~ "end if; end $$"
            ) %}
        {% endfor %}
        {% do return(statements | join(";\n")) %}
    {% endif %}
{% endmacro %}
