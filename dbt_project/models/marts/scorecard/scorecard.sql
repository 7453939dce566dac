with

kpi_values as (
    select * from {{ ref('fct_kpi_values') }}
),

plan_targets as (
    select * from {{ ref('plan_targets') }}
),

kpi_catalog as (
    select * from {{ ref('kpi_catalog') }}
),

dates as (
    select * from {{ ref('dim_date') }}
),

district_values as (
    select
        kpi_id,
        measure,
        business_date,
        value
    from kpi_values
    where region_level = 'district'
),

-- A synthetic county of scale s is judged against s x each absolute target.
targets as (
    select
        plan_id,
        plan_name,
        kpi_id,
        measure,
        baseline_date,
        target_date,
        direction,
        target_value
        * case
            when scales_with_size then {{ var('puhui_scale') }}::numeric
            else 1
        end as target_value
    from plan_targets
),

-- The line starts at the KPI's value on the baseline date; when that date is not loaded,
-- at the first value loaded within the plan period (baseline_source says which).
baselines as (
    select distinct on (targets.plan_id, targets.kpi_id, targets.measure)
        targets.plan_id,
        targets.kpi_id,
        targets.measure,
        district_values.business_date as baseline_value_date,
        district_values.value as baseline_value
    from targets
    inner join district_values
        on targets.kpi_id = district_values.kpi_id
        and targets.measure = district_values.measure
        and district_values.business_date between targets.baseline_date and targets.target_date
        and district_values.value is not null
    order by
        targets.plan_id,
        targets.kpi_id,
        targets.measure,
        district_values.business_date
),

-- Every loaded business date of the plan period; each month's figure is its last loaded
-- business date (is_month_figure).
monthly as (
    select
        targets.plan_id,
        targets.kpi_id,
        targets.measure,
        dates.month_start_date as period_month,
        dates.is_last_loaded_in_month as is_month_figure,
        district_values.business_date as as_of_date,
        district_values.value as actual_value
    from targets
    inner join district_values
        on targets.kpi_id = district_values.kpi_id
        and targets.measure = district_values.measure
        and district_values.business_date between targets.baseline_date and targets.target_date
    inner join dates
        on district_values.business_date = dates.date_day
),

lined as (
    select
        monthly.plan_id,
        targets.plan_name,
        monthly.kpi_id,
        monthly.measure,
        kpi_catalog.kpi_name,
        kpi_catalog.kpi_name_zh,
        kpi_catalog.unit,
        monthly.period_month,
        monthly.is_month_figure,
        monthly.as_of_date,
        monthly.as_of_date = max(monthly.as_of_date) over (
            partition by monthly.plan_id
        ) as is_latest,
        monthly.actual_value,
        targets.direction,
        targets.target_value,
        targets.target_date,
        targets.baseline_date,
        baselines.baseline_value,
        baselines.baseline_value_date,
        case
            when baselines.baseline_value_date is null then null
            when baselines.baseline_value_date = targets.baseline_date then 'baseline_date'
            else 'first_loaded_date'
        end as baseline_source,
        case
            when targets.direction = 'report' or baselines.baseline_value is null then null
            else
                baselines.baseline_value
                + (targets.target_value - baselines.baseline_value)
                * (monthly.as_of_date - baselines.baseline_value_date)::numeric
                / nullif(targets.target_date - baselines.baseline_value_date, 0)
        end as on_track_value
    from monthly
    inner join targets
        on monthly.plan_id = targets.plan_id
        and monthly.kpi_id = targets.kpi_id
        and monthly.measure = targets.measure
    left join baselines
        on monthly.plan_id = baselines.plan_id
        and monthly.kpi_id = baselines.kpi_id
        and monthly.measure = baselines.measure
    left join kpi_catalog
        on monthly.kpi_id = kpi_catalog.kpi_id
        and monthly.measure = kpi_catalog.measure
),

statused as (
    select
        *,
        case
            when direction = 'report' then 'reported'
            when actual_value is null then 'no_data'
            when (direction = 'at_least' and actual_value >= target_value)
                or (direction = 'more_than' and actual_value > target_value)
                or (direction = 'at_most' and actual_value <= target_value)
                then 'achieved'
            when on_track_value is null then 'behind'
            when (direction in ('at_least', 'more_than') and actual_value >= on_track_value)
                or (direction = 'at_most' and actual_value <= on_track_value)
                then 'on_track'
            else 'behind'
        end as status
    from lined
),

final as (
    select
        plan_id::text as plan_id,
        plan_name::text as plan_name,
        kpi_id::text as kpi_id,
        measure::text as measure,
        kpi_name::text as kpi_name,
        kpi_name_zh::text as kpi_name_zh,
        unit::text as unit,
        period_month::date as period_month,
        is_month_figure::boolean as is_month_figure,
        as_of_date::date as as_of_date,
        is_latest::boolean as is_latest,
        actual_value::numeric(24, 6) as actual_value,
        direction::text as direction,
        target_value::numeric(24, 6) as target_value,
        target_date::date as target_date,
        baseline_date::date as baseline_date,
        baseline_value::numeric(24, 6) as baseline_value,
        baseline_value_date::date as baseline_value_date,
        baseline_source::text as baseline_source,
        on_track_value::numeric(24, 6) as on_track_value,
        (
            case
                when direction = 'report' then null
                when direction = 'at_most' then actual_value - target_value
                else target_value - actual_value
            end
        )::numeric(24, 6) as gap,
        (
            case
                when direction in ('at_least', 'more_than')
                    then actual_value / nullif(target_value, 0)
            end
        )::numeric(12, 6) as share_of_target,
        (
            (actual_value - baseline_value) / nullif(target_value - baseline_value, 0)
        )::numeric(12, 6) as progress_share,
        status::text as status
    from statused
)

select * from final
