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

village_ratings as (
    select * from ratings
    where rated_subject = 'village'
),

-- The rating round in force on a day: the latest rating year whose village ratings are
-- dated on or before it (villages are rated each 31 January for the year before).
rounds_in_force as (
    select
        business_dates.business_date,
        max(village_ratings.rating_year) as rating_year
    from business_dates
    left join village_ratings
        on village_ratings.rated_date <= business_dates.business_date
    group by business_dates.business_date
),

-- Administrative villages (行政村) of the region snapshot in force; communities are not rated.
administrative_village_days as (
    select
        village_days.*,
        rounds_in_force.rating_year,
        village_ratings.is_credit_rated
    from village_days
    inner join rounds_in_force
        on village_days.business_date = rounds_in_force.business_date
    left join village_ratings
        on village_days.village_code = village_ratings.village_code
        and rounds_in_force.rating_year = village_ratings.rating_year
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
        count(*) as administrative_villages,
        case
            when max(rating_year) is not null
                then count(*) filter (where is_credit_rated)
        end as credit_villages
    from administrative_village_days
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
        count(administrative_village_days.village_code) as administrative_villages,
        case
            when rounds_in_force.rating_year is not null
                then count(*) filter (where administrative_village_days.is_credit_rated)
        end as credit_villages
    from rounds_in_force
    left join administrative_village_days
        on rounds_in_force.business_date = administrative_village_days.business_date
    group by rounds_in_force.business_date, rounds_in_force.rating_year
),

all_rows as (
    select * from district_rows
    union all
    select * from town_rows
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
        administrative_villages::integer as administrative_villages,
        credit_villages::integer as credit_villages,
        (credit_villages::numeric / nullif(administrative_villages, 0))::numeric(9, 6)
            as credit_village_share,
        {{ window['loaded_at'] }} as built_from_loaded_at
    from all_rows
    where {{ in_window(window, 'business_date') }}
)

select * from final
