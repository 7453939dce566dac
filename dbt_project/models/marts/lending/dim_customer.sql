with

customer_versions as (
    select * from {{ ref('int_customers_versioned') }}
),

household_versions as (
    select * from {{ ref('int_households_versioned') }}
),

archive_versions as (
    select * from {{ ref('int_archives_versioned') }}
),

listings as (
    select * from {{ ref('int_low_income_listings') }}
),

business_dates as (
    select * from {{ ref('int_business_dates') }}
),

-- The dimension describes each customer as of the latest loaded business date.
as_of as (
    select max(business_date) as as_of_date from business_dates
),

customers as (
    select * from customer_versions
    where is_current_version
),

-- An individual customer's household is the registered household he or she heads.
current_households as (
    select
        household_id,
        head_id_hash
    from household_versions
    where is_current_version
),

households_of_customers as (
    select
        customers.customer_id,
        min(current_households.household_id) as household_id
    from customers
    inner join current_households
        on customers.id_hash = current_households.head_id_hash
    group by customers.customer_id
),

archived_households as (
    select
        household_id,
        min(archive_date) as first_archive_date
    from archive_versions
    cross join as_of
    where is_current_version
        and is_active_archive
        and archive_date <= as_of.as_of_date
    group by household_id
),

low_income_heads as (
    select
        listings.head_id_hash,
        min(listings.low_income_category) as low_income_category
    from listings
    cross join as_of
    where listings.listed_date <= as_of.as_of_date
        and (listings.removed_date is null or listings.removed_date > as_of.as_of_date)
    group by listings.head_id_hash
),

final as (
    select
        customers.customer_id::text as customer_id,
        customers.customer_type::text as customer_type,
        customers.is_enterprise::boolean as is_enterprise,
        customers.id_hash::text as id_hash,
        customers.birth_year::integer as birth_year,
        customers.gender::text as gender,
        customers.borrower_class::text as borrower_class,
        (
            case customers.borrower_class
                when '1' then 'farm household'
                when '2' then 'small/micro enterprise or cooperative'
                when '3' then 'individual business'
                when '4' then 'other individual'
            end
        )::text as borrower_class_name,
        customers.enterprise_size::text as enterprise_size,
        customers.is_individual_business::boolean as is_individual_business,
        customers.is_sme_owner::boolean as is_sme_owner,
        customers.village_code::text as village_code,
        customers.credit_line_amount::numeric(18, 2) as credit_line_amount,
        customers.open_date::date as open_date,
        households_of_customers.household_id::text as household_id,
        (low_income_heads.head_id_hash is not null)::boolean as is_low_income,
        low_income_heads.low_income_category::text as low_income_category,
        (archived_households.household_id is not null)::boolean as has_active_archive,
        archived_households.first_archive_date::date as archive_date,
        as_of.as_of_date::date as as_of_date
    from customers
    cross join as_of
    left join households_of_customers
        on customers.customer_id = households_of_customers.customer_id
    left join archived_households
        on households_of_customers.household_id = archived_households.household_id
    left join low_income_heads
        on customers.id_hash = low_income_heads.head_id_hash
)

select * from final
