with

-- The core-banking channel code list (data dictionary, CBS_TXN; domain reference §3.1).
-- Not a source table: the code list changes only with a new channel, and the data tests
-- on the facts fail on any journal code missing here.
channel_codes (channel_code, channel_name, channel_name_zh, channel_group) as (
    values
        ('TE', 'Counter', '柜面', 'counter'),
        ('ME', 'Mobile banking (丰收互联 app)', '手机银行', 'electronic'),
        ('IE', 'Internet banking', '网上银行', 'electronic'),
        ('AT', 'Self-service terminal', '自助终端', 'electronic'),
        ('CA', 'ATM', 'ATM', 'electronic'),
        ('UP', 'UnionPay POS', '银联POS', 'electronic'),
        ('IP', 'POS', 'POS', 'electronic'),
        ('ST', 'Service-station terminal (丰收驿站)', '助农终端', 'electronic'),
        ('IB', 'Alipay quick pay', '支付宝快捷支付', 'electronic'),
        ('ND', 'Internet payment system', '互联网支付', 'electronic'),
        ('PT', 'Online payment', '网上支付', 'electronic'),
        ('BA', 'Batch agency posting', '批量代发代扣', 'batch')
),

final as (
    select
        channel_code::text as channel_code,
        channel_name::text as channel_name,
        channel_name_zh::text as channel_name_zh,
        channel_group::text as channel_group,
        (channel_group = 'electronic') as is_electronic,
        (channel_group = 'counter') as is_counter,
        (channel_group <> 'batch') as is_customer_channel
    from channel_codes
)

select * from final
