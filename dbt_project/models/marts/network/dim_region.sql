{#-
    Built from the version starts int_villages_daily marks (a few rows per village), not
    from every village-day: rebuilt in full every night, it still reads only those, one
    index lookup per village for its last listed day, and the newest business date.
-#}

with

-- A version starts on the first business date on which anything the dimension tracks
-- differs from the village's previous listed day (int_villages_daily.starts_version).
version_starts as (
    select * from {{ ref('int_villages_daily') }}
    where starts_version
),

latest_business_date as (
    select max(business_date) as business_date
    from {{ ref('int_villages_daily') }}
),

-- A village dropped from the region table ends the day after it was last listed.
last_listed as (
    select
        villages.village_code,
        last_day.business_date as last_business_date
    from (select distinct village_code from version_starts) as villages
    cross join lateral (
        select business_date
        from {{ ref('int_villages_daily') }} as village_days
        where village_days.village_code = villages.village_code
        order by village_days.business_date desc
        limit 1
    ) as last_day
),

version_attributes as (
    select
        version_starts.village_code,
        row_number() over village_versions as version_number,
        version_starts.business_date as valid_from_date,
        coalesce(
            lead(version_starts.business_date) over village_versions,
            case
                when last_listed.last_business_date < latest_business_date.business_date
                    then last_listed.last_business_date + 1
            end
        ) as valid_to_date,
        version_starts.village_name,
        version_starts.village_type,
        version_starts.is_community,
        version_starts.urban_rural_code,
        version_starts.town_code,
        version_starts.town_name,
        version_starts.town_type,
        version_starts.town_effective_date,
        version_starts.population_stat_date,
        version_starts.registered_households,
        version_starts.registered_population
    from version_starts
    inner join last_listed
        on version_starts.village_code = last_listed.village_code
    cross join latest_business_date
    window village_versions as (
        partition by version_starts.village_code order by version_starts.business_date
    )
),

final as (
    select
        md5(village_code || '|' || valid_from_date::text)::text as region_key,
        village_code::text as village_code,
        valid_from_date::date as valid_from_date,
        valid_to_date::date as valid_to_date,
        (valid_to_date is null)::boolean as is_current_version,
        version_number::integer as version_number,
        village_name::text as village_name,
        village_type::text as village_type,
        (case when is_community then '社区' else '行政村' end)::text as village_type_name,
        is_community::boolean as is_community,
        urban_rural_code::text as urban_rural_code,
        town_code::text as town_code,
        town_name::text as town_name,
        town_type::text as town_type,
        (
            case town_type when '1' then '街道' when '2' then '镇' when '3' then '乡' end
        )::text as town_type_name,
        town_effective_date::date as town_effective_date,
        '{{ var("puhui_district_code") }}'::text as district_code,
        '{{ var("puhui_district_name") }}'::text as district_name,
        population_stat_date::date as population_stat_date,
        registered_households::integer as registered_households,
        registered_population::integer as registered_population
    from version_attributes
)

select * from final
