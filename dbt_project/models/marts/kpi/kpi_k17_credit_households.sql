{%- set window = rebuild_window(news=[{'model': 'stg_core_banking__credit_ratings', 'date': 'news.rated_date'}]) -%}

with

ratings as (
    select * from {{ ref('fct_credit_ratings') }}
),

village_days as (
    select * from {{ ref('int_lending_village_days') }}
    where {{ in_window(window) }}
),

business_dates as (
    select * from {{ ref('int_business_dates') }}
    where {{ in_window(window) }}
),

household_ratings as (
    select * from ratings
    where rated_subject = 'household'
),

-- The rating round in force on a day: the latest rating year whose household ratings are
-- dated on or before it (households are rated each 31 December).
rounds_in_force as (
    select
        business_dates.business_date,
        max(household_ratings.rating_year) as rating_year
    from business_dates
    left join household_ratings
        on household_ratings.rated_date <= business_dates.business_date
    group by business_dates.business_date
),

-- The households rated in that round (the archived farm households that took part),
-- in the village recorded on their rating.
rated_households as (
    select
        rounds_in_force.business_date,
        household_ratings.village_code,
        household_ratings.is_credit_rated
    from rounds_in_force
    inner join household_ratings
        on rounds_in_force.rating_year = household_ratings.rating_year
),

village_counts as (
    select
        business_date,
        village_code,
        count(*) as rated_households,
        count(*) filter (where is_credit_rated) as credit_households
    from rated_households
    group by business_date, village_code
),

-- Administrative villages of the snapshot in force (communities hold no farm households
-- to rate); a village's town is the one in force on the day.
village_rows as (
    select
        village_days.business_date,
        'village' as region_level,
        village_days.village_code as region_code,
        village_days.village_name as region_name,
        village_days.town_code,
        village_days.town_name,
        rounds_in_force.rating_year,
        coalesce(village_counts.rated_households, 0) as rated_households,
        coalesce(village_counts.credit_households, 0) as credit_households
    from village_days
    inner join rounds_in_force
        on village_days.business_date = rounds_in_force.business_date
    left join village_counts
        on village_days.business_date = village_counts.business_date
        and village_days.village_code = village_counts.village_code
    where not village_days.is_community
),

town_rows as (
    select
        business_date,
        'town' as region_level,
        town_code as region_code,
        town_name as region_name,
        town_code,
        town_name,
        max(rating_year) as rating_year,
        sum(rated_households) as rated_households,
        sum(credit_households) as credit_households
    from village_rows
    group by business_date, town_code, town_name
),

district_rows as (
    select
        rounds_in_force.business_date,
        'district' as region_level,
        '{{ var("puhui_district_code") }}' as region_code,
        '{{ var("puhui_district_name") }}' as region_name,
        null as town_code,
        null as town_name,
        rounds_in_force.rating_year,
        count(rated_households.village_code) as rated_households,
        count(*) filter (where rated_households.is_credit_rated) as credit_households
    from rounds_in_force
    left join rated_households
        on rounds_in_force.business_date = rated_households.business_date
    group by rounds_in_force.business_date, rounds_in_force.rating_year
),

all_rows as (
    select * from district_rows
    union all
    select * from town_rows
    union all
    select * from village_rows
),

final as (
    select
        business_date::date as business_date,
        region_level::text as region_level,
        region_code::text as region_code,
        region_name::text as region_name,
        town_code::text as town_code,
        town_name::text as town_name,
        rating_year::integer as rating_year,
        rated_households::integer as rated_households,
        credit_households::integer as credit_households,
        (credit_households::numeric / nullif(rated_households, 0))::numeric(9, 6)
            as credit_household_share,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
