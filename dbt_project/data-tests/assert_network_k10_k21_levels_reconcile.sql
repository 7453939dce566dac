-- K10 and K21: villages add up to their towns, and (K21, and K10 when every event's
-- village is in the snapshot) towns add up to the district.
with

k10 as (
    select
        'K10' as kpi_id,
        business_date,
        region_level,
        region_code,
        town_code,
        events as a,
        participants as b
    from {{ tested_rows(ref('kpi_k10_literacy_events')) }}
),

k21 as (
    select
        'K21' as kpi_id,
        business_date,
        region_level,
        region_code,
        town_code,
        village_weeks as a,
        village_weeks_with_presence as b
    from {{ tested_rows(ref('kpi_k21_manager_weekly_presence')) }}
),

kpis as (
    select * from k10
    union all
    select * from k21
),

village_sums as (
    select
        kpi_id,
        business_date,
        town_code,
        sum(a) as a,
        sum(b) as b
    from kpis
    where region_level = 'village'
    group by kpi_id, business_date, town_code
),

town_gaps as (
    select
        towns.kpi_id,
        towns.business_date,
        towns.region_code as town_code,
        towns.a as expected_a,
        coalesce(village_sums.a, 0) as actual_a,
        towns.b as expected_b,
        coalesce(village_sums.b, 0) as actual_b
    from kpis as towns
    left join village_sums
        on towns.kpi_id = village_sums.kpi_id
        and towns.business_date = village_sums.business_date
        and towns.region_code = village_sums.town_code
    where towns.region_level = 'town'
),

district_gaps as (
    select
        district.kpi_id,
        district.business_date,
        null as town_code,
        district.a as expected_a,
        coalesce(sum(towns.a), 0) as actual_a,
        district.b as expected_b,
        coalesce(sum(towns.b), 0) as actual_b
    from kpis as district
    left join kpis as towns
        on district.kpi_id = towns.kpi_id
        and district.business_date = towns.business_date
        and towns.region_level = 'town'
    where district.region_level = 'district'
    group by district.kpi_id, district.business_date, district.a, district.b
)

select * from town_gaps
where expected_a <> actual_a or expected_b <> actual_b
union all
select * from district_gaps
where expected_a <> actual_a or expected_b <> actual_b
