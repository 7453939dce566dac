with

villages_daily as (
    select * from {{ ref('int_villages_daily') }}
),

-- One fingerprint of everything the dimension tracks: a new version starts on the first
-- business date on which any of it differs from the day before (town code, name or type
-- after a reorganisation, a renamed village, a new population register).
fingerprinted as (
    select
        *,
        md5(concat_ws(
            '|',
            village_name, village_type, urban_rural_code, town_code, town_name, town_type,
            town_effective_date, population_stat_date, registered_households,
            registered_population
        )) as attribute_hash
    from villages_daily
),

change_flags as (
    select
        *,
        case
            when lag(attribute_hash) over village_days is distinct from attribute_hash
                then 1
            else 0
        end as starts_version
    from fingerprinted
    window village_days as (partition by village_code order by business_date)
),

numbered as (
    select
        *,
        sum(starts_version) over (
            partition by village_code order by business_date
        ) as version_number
    from change_flags
),

versions as (
    select
        village_code,
        version_number,
        min(business_date) as valid_from_date,
        max(business_date) as last_business_date
    from numbered
    group by village_code, version_number
),

latest_business_date as (
    select max(business_date) as business_date
    from villages_daily
),

version_attributes as (
    select
        versions.village_code,
        versions.version_number,
        versions.valid_from_date,
        -- A village dropped from the region table ends the day after it was last listed.
        coalesce(
            lead(versions.valid_from_date) over (
                partition by versions.village_code order by versions.valid_from_date
            ),
            case
                when versions.last_business_date < latest_business_date.business_date
                    then versions.last_business_date + 1
            end
        ) as valid_to_date,
        numbered.village_name,
        numbered.village_type,
        numbered.is_community,
        numbered.urban_rural_code,
        numbered.town_code,
        numbered.town_name,
        numbered.town_type,
        numbered.town_effective_date,
        numbered.population_stat_date,
        numbered.registered_households,
        numbered.registered_population
    from versions
    cross join latest_business_date
    inner join numbered
        on versions.village_code = numbered.village_code
        and versions.valid_from_date = numbered.business_date
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
