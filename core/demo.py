"""The built-in demo store: a deterministic synthetic shop with planted personas.

``generate_demo_store`` returns the four canonical tables of :mod:`core.schema` — customers,
orders (one row per line; returns are later lines with negative quantity and amount), products
(about 200 in ten categories) and reviews — for a shop over ``months`` months ending at
``end_date``. Every customer belongs to one of eight personas, stored as the ground-truth column
``customers.persona`` (last column) so that a segmentation can be scored (e.g. ARI); the
canonical ``label`` column is left empty.

Two personas — ``eco_conscious`` and ``tech_enthusiast`` — are drawn from the *same* numeric
distributions (orders, spend, categories, discounts, returns, sign-up dates, demographics,
review counts and ratings); only their review vocabulary differs. Numbers alone cannot tell them
apart, so review text genuinely matters.

The same ``(n_customers, seed, end_date, months)`` always gives identical tables: everything is
drawn from one ``numpy.random.default_rng(seed)``. Order lines are generated with vectorised
numpy and assembled as Arrow columns, so a million customers (≈ 12 million order lines, 2
million reviews) take about a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from core.schema import SCHEMAS

PERSONAS: dict[str, str] = {
    "loyal_high_value": "Buys often all through the period, spends a lot on premium categories "
    "(electronics, jewellery), few discounts and returns, praises quality",
    "bargain_hunter": "Many small orders with heavy discounts (30-60%), groceries and home goods, "
    "writes about deals and coupons",
    "new_potential": "Signed up in the last three months, one to three first orders, "
    "writes first impressions",
    "lapsing_churned": "Bought in the first part of the period, nothing in the last seven to "
    "ten months, lukewarm reviews",
    "gift_seasonal": "Buys around Christmas, Valentine's and Mother's Day: toys, jewellery, "
    "beauty; reviews mention gifts",
    "unhappy_returner": "Returns a large share of purchases (30-50% of lines), low ratings, "
    "complains about defects and refunds",
    "eco_conscious": "Regular mid-value shopper whose reviews are about sustainability and "
    "packaging",
    "tech_enthusiast": "Same numbers as eco_conscious, but reviews are about specs, upgrades and "
    "new releases",
}

CATEGORIES: tuple[str, ...] = (
    "Electronics",
    "Fashion",
    "Home & Kitchen",
    "Beauty",
    "Sports & Outdoors",
    "Books",
    "Toys & Games",
    "Grocery",
    "Jewelry",
    "Baby",
)

REGIONS = ("North", "South", "East", "West", "Central", "Islands")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
GENDERS = ("female", "male", "other")
CHANNELS = ("app", "web", "store", "social")

# category -> (items as (name, typical price), variants as (name template, price factor),
#              description snippets)
# fmt: off
_CATALOGUE: dict[str, tuple[tuple[tuple[str, float], ...], tuple[tuple[str, float], ...], tuple[str, ...]]] = {
    "Electronics": (
        (("Wireless Earbuds", 89), ("Smart Watch", 249), ("Bluetooth Speaker", 69), ("4K Monitor", 329),
         ("Mechanical Keyboard", 119), ("Noise-Cancelling Headphones", 279), ("Tablet", 449),
         ("Portable Charger", 39), ("Action Camera", 299), ("Gaming Mouse", 59)),
        (("{} Pro", 1.5), ("{} Max", 1.8), ("{} Mini", 0.7), ("{} Lite", 0.75), ("{} 2nd Gen", 1.2),
         ("{} Plus", 1.3)),
        ("long battery life", "fast USB-C charging", "Bluetooth 5.3 connectivity",
         "a sleek aluminium finish", "a two-year warranty", "low-latency performance"),
    ),
    "Fashion": (
        (("Denim Jacket", 79), ("Running Sneakers", 95), ("Wool Scarf", 35), ("Leather Belt", 45),
         ("Linen Shirt", 49), ("Rain Coat", 119), ("Chino Trousers", 59), ("Knit Sweater", 69),
         ("Summer Dress", 65), ("Canvas Tote Bag", 25)),
        (("Classic {}", 1.0), ("Premium {}", 1.5), ("Slim-Fit {}", 1.1), ("Kids' {}", 0.6),
         ("Vintage {}", 1.2)),
        ("breathable fabric", "a relaxed fit", "machine washable", "timeless styling",
         "available in six colours", "reinforced stitching"),
    ),
    "Home & Kitchen": (
        (("Espresso Maker", 189), ("Cast Iron Pan", 49), ("Bamboo Cutting Board", 22), ("Air Fryer", 119),
         ("Cotton Bedsheets", 59), ("Glass Storage Jars", 29), ("Ceramic Vase", 34), ("Desk Lamp", 39),
         ("Chef's Knife Set", 89), ("Throw Blanket", 45)),
        (("Deluxe {}", 1.5), ("Compact {}", 0.7), ("{} Set of 2", 1.8), ("Family-Size {}", 1.4),
         ("Nordic {}", 1.2)),
        ("dishwasher safe", "easy to clean", "space-saving design", "durable everyday use",
         "a minimalist look", "gift-ready box"),
    ),
    "Beauty": (
        (("Vitamin C Serum", 29), ("Eau de Parfum", 65), ("Lip Balm", 8), ("Sheet Face Mask", 12),
         ("Ionic Hair Dryer", 79), ("Nail Polish", 11), ("Night Cream", 34), ("Shampoo Bar", 10),
         ("Makeup Brush Set", 28), ("Body Lotion", 15)),
        (("{} Gift Set", 1.8), ("Travel-Size {}", 0.5), ("Organic {}", 1.3), ("{} Duo", 1.6)),
        ("dermatologist tested", "a light fresh scent", "suitable for sensitive skin",
         "vegan formula", "long-lasting results", "paraben free"),
    ),
    "Sports & Outdoors": (
        (("Yoga Mat", 35), ("Camping Tent", 189), ("Insulated Water Bottle", 25), ("Trail Backpack", 89),
         ("Dumbbell Set", 79), ("Cycling Helmet", 69), ("Running Shorts", 29), ("Hiking Boots", 139),
         ("Resistance Bands", 19), ("Sleeping Bag", 99)),
        (("Ultralight {}", 1.5), ("Pro {}", 1.4), ("Junior {}", 0.6), ("All-Weather {}", 1.3)),
        ("lightweight build", "weather resistant", "non-slip grip", "packs down small",
         "built for daily training", "reflective details"),
    ),
    "Books": (
        (("Cookbook", 28), ("Mystery Novel", 15), ("Travel Guide", 22), ("Science Fiction Novel", 16),
         ("Picture Book", 12), ("Productivity Handbook", 19), ("Biography", 24),
         ("Poetry Collection", 14), ("History Atlas", 35), ("Fantasy Trilogy", 32)),
        (("{} (Hardcover)", 1.6), ("{} (Paperback)", 0.8), ("Illustrated {}", 1.4),
         ("{} Box Set", 2.2)),
        ("a bestselling author", "over 300 pages", "full-colour illustrations",
         "a new edition", "a reader favourite", "a beautiful cover"),
    ),
    "Toys & Games": (
        (("Building Blocks Set", 49), ("Strategy Board Game", 39), ("Plush Bear", 22),
         ("Jigsaw Puzzle", 19), ("Remote Control Car", 59), ("Doll House", 89), ("Science Kit", 35),
         ("Card Game", 14), ("Wooden Train Set", 45), ("Art and Craft Kit", 27)),
        (("Deluxe {}", 1.6), ("Mini {}", 0.6), ("Family {}", 1.2), ("Collector's {}", 1.9)),
        ("ages 6 and up", "hours of family fun", "safe non-toxic materials",
         "encourages creativity", "easy to assemble", "a gift-ready box"),
    ),
    "Grocery": (
        (("Organic Coffee Beans", 14), ("Extra Virgin Olive Oil", 12), ("Green Tea", 6),
         ("Granola", 5), ("Dark Chocolate", 4), ("Durum Wheat Pasta", 3), ("Snack Box", 18),
         ("Wildflower Honey", 9), ("Spice Collection", 16), ("Protein Bars", 11)),
        (("{} Family Pack", 2.0), ("{} Multipack", 1.6), ("Fair-Trade {}", 1.3),
         ("{} Trial Size", 0.5)),
        ("freshly packed", "no artificial additives", "a pantry staple", "resealable bag",
         "sourced from small farms", "rich taste"),
    ),
    "Jewelry": (
        (("Silver Necklace", 129), ("Gold Earrings", 249), ("Charm Bracelet", 89), ("Diamond Ring", 799),
         ("Pearl Pendant", 189), ("Gemstone Studs", 149), ("Signet Ring", 179), ("Anklet", 49),
         ("Cufflinks", 79), ("Engraved Locket", 119)),
        (("Handcrafted {}", 1.3), ("Minimalist {}", 0.8), ("Vintage-Style {}", 1.1), ("Luxury {}", 2.0)),
        ("hypoallergenic", "comes in a velvet box", "hand polished", "adjustable length",
         "free engraving", "certified materials"),
    ),
    "Baby": (
        (("Baby Stroller", 299), ("Diaper Pack", 24), ("Baby Monitor", 119), ("Swaddle Blanket", 25),
         ("Teething Toy", 9), ("Baby Bottle Set", 29), ("High Chair", 139), ("Baby Carrier", 89),
         ("Baby Bath Tub", 35), ("Night Light", 19)),
        (("Newborn {}", 0.9), ("Travel {}", 1.1), ("Premium {}", 1.5), ("Organic {}", 1.3)),
        ("BPA free", "soft on delicate skin", "easy one-hand fold", "tested for safety",
         "machine washable", "calming design"),
    ),
}
# fmt: on


@dataclass(frozen=True)
class _Persona:
    share: float
    orders: float  # mean number of purchase orders in the window (gamma-Poisson)
    lines_extra: float  # Poisson mean of extra lines per order (an order has 1-3 lines)
    qty_extra: float  # Poisson mean of extra units per line
    cats: tuple[float, ...]  # weights over CATEGORIES
    price_pos: tuple[float, float]  # Beta(a, b): cheap (0) to pricey (1) inside a category
    discount: tuple[float, float, float]  # P(line discounted), Beta(a, b) of the discount size
    p_return: float  # probability a purchased line is later returned
    p_review: float  # probability the customer writes any review
    reviews_extra: float  # Poisson mean of reviews beyond the first (1-5 in all)
    rating: tuple[float, ...]  # weights of 1..5 stars
    age: tuple[float, ...]  # weights over AGE_BANDS
    channel: tuple[float, ...]  # weights over CHANNELS


_AGE = (0.12, 0.27, 0.24, 0.18, 0.12, 0.07)
_CHANNEL = (0.42, 0.36, 0.12, 0.10)
_SAME_NUMBERS = dict(  # eco_conscious and tech_enthusiast share every number
    share=0.14, orders=8.0, lines_extra=0.5, qty_extra=0.2,
    cats=(0.20, 0.16, 0.20, 0.06, 0.14, 0.08, 0.02, 0.06, 0.04, 0.04),
    price_pos=(2.0, 3.0), discount=(0.25, 2.0, 12.0), p_return=0.05, p_review=0.99,
    reviews_extra=1.0, rating=(0.02, 0.03, 0.10, 0.40, 0.45), age=_AGE, channel=_CHANNEL,
)  # fmt: skip

_SPECS: dict[str, _Persona] = {
    "loyal_high_value": _Persona(
        share=0.11, orders=16.0, lines_extra=0.7, qty_extra=0.2,
        cats=(0.30, 0.12, 0.10, 0.06, 0.08, 0.04, 0.02, 0.02, 0.22, 0.04),
        price_pos=(3.0, 2.0), discount=(0.10, 2.0, 30.0), p_return=0.02, p_review=0.85,
        reviews_extra=1.2, rating=(0.0, 0.01, 0.04, 0.30, 0.65),
        age=(0.05, 0.20, 0.28, 0.25, 0.14, 0.08), channel=(0.55, 0.30, 0.12, 0.03),
    ),
    "bargain_hunter": _Persona(
        share=0.15, orders=14.0, lines_extra=0.4, qty_extra=0.6,
        cats=(0.04, 0.10, 0.28, 0.10, 0.04, 0.06, 0.04, 0.30, 0.0, 0.04),
        price_pos=(1.2, 5.0), discount=(0.92, 7.0, 9.0), p_return=0.05, p_review=0.85,
        reviews_extra=1.0, rating=(0.03, 0.07, 0.30, 0.40, 0.20),
        age=_AGE, channel=(0.50, 0.35, 0.05, 0.10),
    ),
    "new_potential": _Persona(
        share=0.12, orders=2.0, lines_extra=0.5, qty_extra=0.2,
        cats=(0.16, 0.18, 0.16, 0.12, 0.10, 0.08, 0.06, 0.06, 0.04, 0.04),
        price_pos=(2.0, 2.5), discount=(0.5, 2.0, 10.0), p_return=0.04, p_review=0.80,
        reviews_extra=0.3, rating=(0.02, 0.04, 0.14, 0.40, 0.40),
        age=(0.25, 0.35, 0.20, 0.10, 0.06, 0.04), channel=(0.35, 0.25, 0.05, 0.35),
    ),
    "lapsing_churned": _Persona(
        share=0.15, orders=6.0, lines_extra=0.4, qty_extra=0.2,
        cats=(0.14, 0.18, 0.16, 0.10, 0.10, 0.10, 0.06, 0.08, 0.04, 0.04),
        price_pos=(2.0, 3.0), discount=(0.3, 2.0, 10.0), p_return=0.06, p_review=0.80,
        reviews_extra=0.6, rating=(0.10, 0.25, 0.40, 0.20, 0.05),
        age=_AGE, channel=(0.30, 0.45, 0.18, 0.07),
    ),
    "gift_seasonal": _Persona(
        share=0.10, orders=4.0, lines_extra=0.7, qty_extra=0.3,
        cats=(0.08, 0.04, 0.02, 0.22, 0.02, 0.04, 0.32, 0.02, 0.22, 0.02),
        price_pos=(2.5, 2.0), discount=(0.3, 2.0, 10.0), p_return=0.06, p_review=0.85,
        reviews_extra=0.8, rating=(0.0, 0.02, 0.08, 0.40, 0.50),
        age=(0.08, 0.22, 0.26, 0.22, 0.14, 0.08), channel=_CHANNEL,
    ),
    "unhappy_returner": _Persona(
        share=0.09, orders=8.0, lines_extra=0.5, qty_extra=0.2,
        cats=(0.20, 0.30, 0.14, 0.08, 0.08, 0.04, 0.04, 0.04, 0.04, 0.04),
        price_pos=(2.0, 2.5), discount=(0.3, 2.0, 10.0), p_return=0.40, p_review=0.92,
        reviews_extra=1.2, rating=(0.45, 0.35, 0.12, 0.06, 0.02),
        age=_AGE, channel=_CHANNEL,
    ),
    "eco_conscious": _Persona(**_SAME_NUMBERS),
    "tech_enthusiast": _Persona(**_SAME_NUMBERS),
}  # fmt: skip

# Review phrase banks: each review combines one to three persona sentences with neutral filler.
# "{p}" is replaced by the reviewed product's name.
_PHRASES: dict[str, tuple[str, ...]] = {
    "loyal_high_value": (
        "Premium quality as always, worth every penny.",
        "I keep coming back because the quality never disappoints.",
        "Excellent craftsmanship, the {p} feels luxurious.",
        "Another flawless purchase from my favourite shop.",
        "Top-notch build quality, I recommend it to all my friends.",
        "Fast delivery and superb quality, a loyal customer for years.",
        "The {p} exceeded my expectations, outstanding materials.",
        "Consistently excellent service and high quality products.",
        "You can feel the quality the moment you unbox the {p}.",
        "Happy to pay a bit more for this level of quality.",
        "My fifth order this year and every item has been first class.",
        "Premium feel, beautiful finish and it will last for years.",
    ),
    "bargain_hunter": (
        "Great deal, I used a coupon and saved a lot.",
        "Bought it on sale with a discount code, cheap and cheerful.",
        "Good value for money at this price.",
        "Waited for the flash sale and got the {p} at half price.",
        "Cheapest price I could find, and I stacked two vouchers.",
        "The bulk deal was a bargain, will buy more when it is discounted.",
        "Only bought it because of the promotion, decent for the price.",
        "The price drop alert paid off, a real bargain.",
        "Would not pay full price, but with the coupon it is a steal.",
        "Compared prices everywhere and this deal was the best.",
        "Free shipping plus the weekend discount made it worth it.",
        "Stocked up during the sale, the savings were great.",
    ),
    "new_potential": (
        "First order here and so far so good.",
        "New customer, pleasantly surprised by the {p}.",
        "Just discovered this shop and my first impression is positive.",
        "My first purchase, easy checkout and quick delivery.",
        "Trying this store for the first time, looking forward to ordering again.",
        "Signed up recently and the welcome offer was a nice touch.",
        "First time buying from this brand, the {p} looks promising.",
        "A friend recommended the shop, first experience went smoothly.",
        "Still getting to know the store, but a good start.",
        "Opened my account last month and already like the app.",
    ),
    "lapsing_churned": (
        "It was okay, nothing special.",
        "The {p} is fine but I found better options elsewhere.",
        "Average experience, delivery took a while.",
        "I used to shop here more often, the selection got worse.",
        "Not sure I will order again, prices went up.",
        "Meh, it does the job.",
        "Decent enough, but I have moved on to another shop.",
        "The {p} is acceptable, not as good as I hoped.",
        "Nothing wrong with it, nothing great either.",
        "Service used to be better, I rarely order now.",
    ),
    "gift_seasonal": (
        "Bought this as a Christmas gift for my daughter and she loved it.",
        "Perfect present, the gift wrapping was beautiful.",
        "Ordered the {p} as a birthday gift for my wife.",
        "Great holiday gift, it arrived before Christmas.",
        "Lovely gift box, my mother was delighted on Mother's Day.",
        "A Valentine's present, beautifully wrapped.",
        "Got it for my nephew for the holidays and he was thrilled.",
        "Nice gift idea, it came with a card.",
        "The {p} made a wonderful stocking filler.",
        "Bought it as a present for my son, he has not put it down since.",
        "Gift-wrapped and delivered in time for the holidays.",
        "My sister loved her present, the wrapping paper was a nice touch.",
    ),
    "unhappy_returner": (
        "It arrived broken and I had to return it.",
        "Terrible quality, I requested a refund.",
        "The {p} stopped working after two days, sending it back.",
        "Customer service was slow to answer my complaint.",
        "Wrong size again, returned it, very disappointed.",
        "Defective item and the refund took weeks.",
        "The {p} was damaged on arrival, poorly packed.",
        "It does not match the description, returning it.",
        "Cheap materials, it fell apart after a week.",
        "Had to contact support three times before the refund came through.",
        "Faulty out of the box, asked for a replacement.",
        "Disappointed again, this is my third return this year.",
    ),
    "eco_conscious": (
        "Love that the packaging is plastic-free and recyclable.",
        "Sustainably made, I care about ethical sourcing.",
        "The {p} is made from recycled materials, great for the planet.",
        "An eco-friendly choice with minimal packaging waste.",
        "Happy to support a brand with fair trade and organic materials.",
        "The low-carbon shipping option made me choose this.",
        "Durable and repairable, so less waste in the long run.",
        "Compostable packaging, very environmentally conscious.",
        "I appreciate the recycled cardboard box and no plastic fillers.",
        "Ethically produced and the brand is transparent about its supply chain.",
        "Glad the {p} is sustainable, I try to shop responsibly.",
        "Recyclable parts and a take-back scheme, more shops should do this.",
    ),
    "tech_enthusiast": (
        "Upgraded to the latest model and the specs are impressive.",
        "Pre-ordered on release day, the new firmware is fast.",
        "Benchmarks show a big performance jump over the last generation.",
        "The {p} has cutting-edge features and great battery life.",
        "Early adopter here, the new release is worth the upgrade.",
        "Compared the specs with competitors and this one wins.",
        "Latest generation chip, blazing fast and smooth.",
        "Tech reviewers were right, the new version is a leap forward.",
        "Checked the spec sheet twice, the upgrade was worth it.",
        "Smart features and app integration work flawlessly.",
        "Always buy the newest gadgets and the {p} did not disappoint.",
        "The new model pairs instantly, specs match the launch announcement.",
    ),
}
_NEUTRAL: tuple[str, ...] = (
    "Delivery was on time.",
    "Ordered the {p} last month.",
    "It matches the photos.",
    "The size is as described.",
    "Arrived in two days.",
    "I use the {p} every week.",
    "The colour is as shown.",
    "Bought the {p} recently.",
    "Here is my short review.",
    "The instructions were clear.",
    "Tracking updates were helpful.",
    "It came in a plain box.",
)

# The same persona sentences as a Chinese shopper writes them (a review language, not a
# translation of the interface): the same number of sentences per persona, in the same order,
# so that one seed gives the same reviews in either language, sentence for sentence. Chinese
# reviews rarely repeat the product's name, so these have no "{p}".
_PHRASES_ZH: dict[str, tuple[str, ...]] = {
    "loyal_high_value": (
        "品质一如既往，物有所值。",
        "质量从来没让我失望过，所以一直回购。",
        "做工精致，质感很高级。",
        "又一次完美的购物体验，最喜欢的店铺。",
        "做工一流，已经推荐给身边的朋友了。",
        "发货快，品质出众，好几年的老顾客了。",
        "远超预期，用料非常扎实。",
        "服务一直很周到，品质有保障。",
        "一开箱就能感受到品质。",
        "为这样的品质多花点钱也值得。",
        "今年第五次下单，每一件都是精品。",
        "高级感十足，做工精细，能用很多年。",
    ),
    "bargain_hunter": (
        "用了优惠券，省了不少钱。",
        "趁打折用折扣码买的，便宜又实惠。",
        "性价比很高，这个价格很值。",
        "等到秒杀才下手，半价入手。",
        "全网最低价，还叠加了两张优惠券。",
        "囤货很划算，下次打折还会再囤。",
        "冲着促销活动买的，这个价格还行。",
        "设置了降价提醒，果然捡到便宜。",
        "原价不会买，用券之后太划算了。",
        "货比三家，这家的活动价最便宜。",
        "包邮加上周末满减，很划算。",
        "大促期间囤了一堆，省了不少钱。",
    ),
    "new_potential": (
        "第一次在这里买，目前感觉不错。",
        "新用户，收到之后有惊喜。",
        "刚发现这家店，第一印象很好。",
        "首单，结账方便，发货也快。",
        "第一次尝试这家店，期待下次再来。",
        "刚注册，新人优惠很贴心。",
        "第一次买这个牌子，看起来很有潜力。",
        "朋友推荐来的，第一次购物很顺利。",
        "还在熟悉这家店，开头不错。",
        "上个月刚注册的账号，已经喜欢上这个应用了。",
    ),
    "lapsing_churned": (
        "还行吧，没什么特别的。",
        "能用，但是别家有更好的选择。",
        "体验一般，等了好久才到。",
        "以前常在这里买，现在选择越来越少了。",
        "涨价了，不确定还会不会再买。",
        "凑合用吧。",
        "还算可以，不过我已经换别家了。",
        "勉强能接受，没有想象中的好。",
        "没什么毛病，也没什么亮点。",
        "服务不如以前了，现在很少来买。",
    ),
    "gift_seasonal": (
        "买来当圣诞礼物送给女儿，她很喜欢。",
        "礼物很完美，礼品包装很漂亮。",
        "给老婆买的生日礼物。",
        "节日礼物，圣诞节前就到了。",
        "礼盒很精美，母亲节妈妈收到很开心。",
        "情人节礼物，包得很漂亮。",
        "过节送给外甥的，他高兴坏了。",
        "送礼的好选择，还附带贺卡。",
        "放在圣诞袜里当小礼物正合适。",
        "买给儿子的礼物，他爱不释手。",
        "礼品包装很用心，节前准时送到。",
        "妹妹很喜欢这份礼物，包装纸也很好看。",
    ),
    "unhappy_returner": (
        "收到就是坏的，只能退货。",
        "质量太差了，已经申请退款。",
        "用了两天就坏了，寄回去了。",
        "客服回复太慢，投诉了也没人管。",
        "尺码又不对，退了，很失望。",
        "有瑕疵，退款等了好几周。",
        "到货就有破损，包装太简陋。",
        "和描述不符，退货。",
        "材料很廉价，一周就散架了。",
        "联系了三次客服才退款。",
        "开箱就是坏的，要求换货。",
        "又失望了，今年第三次退货。",
    ),
    "eco_conscious": (
        "包装无塑料，可以回收，很喜欢。",
        "生产方式可持续，我很看重原料来源是否环保。",
        "用再生材料制成，对地球很友好。",
        "环保的选择，包装简单，没有浪费。",
        "支持公平贸易和有机材料的品牌。",
        "选择了低碳配送，这是我下单的原因。",
        "结实耐用还能维修，长期来看更少浪费。",
        "包装可降解，很有环保意识。",
        "喜欢再生纸箱，没有塑料填充物。",
        "生产合乎道德，品牌公开了供应链信息。",
        "很高兴是环保材料，我尽量绿色消费。",
        "零件可回收，还有旧物回收计划，希望更多商家这样做。",
    ),
    "tech_enthusiast": (
        "升级到最新款，参数很惊艳。",
        "首发当天预订的，新固件很流畅。",
        "跑分相比上一代提升很大。",
        "功能很前沿，续航也很强。",
        "作为尝鲜党，新品值得升级。",
        "对比了竞品的参数，这款完胜。",
        "最新一代芯片，运行飞快又流畅。",
        "测评说得没错，新版本进步巨大。",
        "参数表看了两遍，升级很值。",
        "智能功能和手机联动很完美。",
        "一直追最新的数码产品，这次也没失望。",
        "新款秒连，参数和发布会说的一致。",
    ),
}
_NEUTRAL_ZH: tuple[str, ...] = (
    "物流准时。",
    "上个月买的。",
    "和图片一样。",
    "尺寸和描述一致。",
    "两天就到了。",
    "每周都在用。",
    "颜色和图片一样。",
    "最近买的。",
    "简单评价一下。",
    "说明书写得很清楚。",
    "物流信息更新很及时。",
    "普通纸箱装的。",
)
# Review text per review language: (persona banks, neutral sentences, sentence separator).
REVIEW_LANGS: dict[str, tuple[dict[str, tuple[str, ...]], tuple[str, ...], str]] = {
    "en": (_PHRASES, _NEUTRAL, " "),
    "zh": (_PHRASES_ZH, _NEUTRAL_ZH, ""),
}

_EPOCH = pd.Timestamp("1970-01-01")
_DAY = 86_400


def generate_demo_store(
    n_customers: int = 20_000,
    seed: int = 0,
    *,
    end_date: str = "2026-06-30",
    months: int = 24,
    lang: str = "en",
) -> dict[str, pd.DataFrame]:
    """customers, orders, products, reviews — identical for the same arguments.

    Orders fall in the ``months`` months ending at ``end_date`` (inclusive). ``customers`` has
    the canonical columns plus the ground-truth ``persona`` (last); ``label`` is left empty.
    ``lang`` is the language the reviews are written in (:data:`REVIEW_LANGS`: ``en``, ``zh``);
    everything else — customers, personas, orders, products, ids, ratings, dates — is the same
    for the same seed whatever the language, and so is which persona sentence each review uses.
    """
    n = int(n_customers)
    if n < 1:
        raise ValueError("n_customers must be at least 1")
    if lang not in REVIEW_LANGS:
        raise ValueError(f"lang must be one of {', '.join(REVIEW_LANGS)}, not {lang!r}")
    if months < 12:
        raise ValueError("months must be at least 12 (the personas need a year of history)")
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end_date).normalize()
    start = end - pd.DateOffset(months=months)
    end_day = (end - _EPOCH).days
    start_day = (start - _EPOCH).days
    end_sec = end_day * _DAY + _DAY - 1  # last second of the window

    names = list(PERSONAS)
    specs = [_SPECS[p] for p in names]
    code = {p: i for i, p in enumerate(names)}

    def per(attr: str) -> np.ndarray:
        return np.array([getattr(s, attr) for s in specs], dtype=float)

    products = _products(rng)
    prod_price = products["price"].to_numpy()
    prod_cat = products["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy()

    # ------------------------------------------------------------------ customers
    shares = per("share")
    persona = rng.choice(len(names), size=n, p=shares / shares.sum()).astype(np.int64)
    is_new = persona == code["new_potential"]
    is_lapsing = persona == code["lapsing_churned"]
    signup = rng.integers(start_day - 365, end_day - 120, size=n)
    signup[is_new] = rng.integers(end_day - 88, end_day - 2, size=int(is_new.sum()))
    # Lapsing customers stop 7-10 months before the end; their returns are at most 30 days later.
    lapse = np.full(n, end_day, dtype=np.int64)
    lapse[is_lapsing] = end_day - rng.integers(215, 300, size=int(is_lapsing.sum()))
    signup[is_lapsing] = np.minimum(
        rng.integers(start_day - 365, start_day + 60, size=int(is_lapsing.sum())),
        lapse[is_lapsing] - 120,
    )
    region = rng.choice(len(REGIONS), size=n, p=[0.22, 0.2, 0.18, 0.18, 0.16, 0.06])
    age = _draw_by_group(rng, persona, np.array([s.age for s in specs]))
    gender = rng.choice(len(GENDERS), size=n, p=[0.52, 0.45, 0.03])
    channel = _draw_by_group(rng, persona, np.array([s.channel for s in specs]))
    customers = pa.table(
        {
            "customer_id": _ids("C", np.arange(1, n + 1), 7),
            "signup_date": _timestamps(signup * _DAY),
            "region": _take(REGIONS, region),
            "age_band": _take(AGE_BANDS, age),
            "gender": _take(GENDERS, gender),
            "channel": _take(CHANNELS, channel),
            "persona": _take(names, persona),
        }
    )
    customers = _to_pandas(customers)
    customers.insert(6, "label", pd.Series([None] * n, dtype=object))

    # ------------------------------------------------------------- purchase orders
    mean_orders = per("orders")[persona]
    n_orders = np.maximum(1, rng.poisson(rng.gamma(4.0, mean_orders / 4.0)))
    n_orders[is_new] = rng.integers(1, 4, size=int(is_new.sum()))
    oc = np.repeat(np.arange(n), n_orders)  # customer of each order
    m = len(oc)
    op = persona[oc]
    first = np.maximum(signup, start_day)[oc]
    last = lapse[oc]
    day = first + (rng.random(m) * (last - first + 1)).astype(np.int64)
    gift = np.flatnonzero(op == code["gift_seasonal"])
    if len(gift):
        day[gift] = _seasonal_days(rng, day[gift], first[gift], last[gift], start.year, end.year)
    order_sec = day * _DAY + rng.integers(7 * 3600, 23 * 3600, size=m)

    # ------------------------------------------------------------------ order lines
    n_lines = 1 + np.minimum(rng.poisson(per("lines_extra")[op]), 2)
    lo = np.repeat(np.arange(m), n_lines)  # order of each line
    L = len(lo)
    lp = op[lo]
    cat = _draw_by_group(rng, lp, np.array([s.cats for s in specs]))
    pos = rng.beta(_col2(specs, "price_pos", 0)[lp], _col2(specs, "price_pos", 1)[lp])
    product = np.empty(L, dtype=np.int64)
    for c in range(len(CATEGORIES)):
        members = np.flatnonzero(prod_cat == c)
        members = members[np.argsort(prod_price[members], kind="stable")]
        sel = cat == c
        product[sel] = members[
            np.minimum((pos[sel] * len(members)).astype(np.int64), len(members) - 1)
        ]
    qty = 1 + np.minimum(rng.poisson(per("qty_extra")[lp]), 5)
    has_disc = rng.random(L) < _col2(specs, "discount", 0)[lp]
    size = rng.beta(_col2(specs, "discount", 1)[lp], _col2(specs, "discount", 2)[lp])
    discount = np.where(has_disc, np.clip(np.round(size, 2), 0.01, 0.9), 0.0)
    unit_price = prod_price[product]
    amount = np.round(qty * unit_price * (1 - discount), 2)
    del cat, pos, has_disc, size

    # -------------------------------------------------------------------- returns
    # Some purchased lines come back 3-30 days later, all lines of one order on the same day.
    ret_delay = rng.integers(3, 31, size=m)
    ret_sec_of_order = (day + ret_delay) * _DAY + rng.integers(9 * 3600, 20 * 3600, size=m)
    is_ret = (rng.random(L) < per("p_return")[lp]) & (day[lo] + ret_delay[lo] <= end_day)
    rl = np.flatnonzero(is_ret)  # returned lines
    ret_qty = rng.integers(1, qty[rl] + 1)  # partial returns of multi-unit lines
    ret_src = np.unique(lo[rl])  # orders with something returned → one return transaction each
    del lp, is_ret

    # Transactions (purchases, then returns) numbered in time order.
    tx_sec = np.concatenate([order_sec, ret_sec_of_order[ret_src]])
    rank = np.empty(len(tx_sec), dtype=np.int64)
    rank[np.lexsort((np.arange(len(tx_sec)), tx_sec))] = np.arange(len(tx_sec))
    purchase_no, return_no = rank[:m], rank[m:]

    tx = np.concatenate([purchase_no[lo], return_no[np.searchsorted(ret_src, lo[rl])]])
    srt = np.argsort(tx, kind="stable")
    tx = tx[srt]
    del rank, purchase_no, return_no, tx_sec

    ret_amount = -np.round(ret_qty * unit_price[rl] * (1 - discount[rl]), 2)
    sp = _lines(product, product[rl], srt)
    pid = pa.array(products["product_id"].tolist(), pa.string())
    orders = pa.table(
        {
            "order_id": _ids("O", tx + 1, 8),
            "customer_id": _ids("C", _lines(oc[lo], oc[lo[rl]], srt) + 1, 7),
            "order_date": _timestamps(_lines(order_sec[lo], ret_sec_of_order[lo[rl]], srt)),
            "product_id": pid.take(sp),
            "product_name": pa.array(products["product_name"].tolist(), pa.string()).take(sp),
            "category": pa.array(products["category"].tolist(), pa.string()).take(sp),
            "quantity": _lines(qty, -ret_qty, srt).astype(float),
            "unit_price": _lines(unit_price, unit_price[rl], srt),
            "discount": _lines(discount, discount[rl], srt),
            "amount": _lines(amount, ret_amount, srt),
        }
    )
    del tx, srt, sp, qty, unit_price, discount, amount, ret_amount, ret_sec_of_order
    orders = _to_pandas(orders)

    # -------------------------------------------------------------------- reviews
    # Each review is about a different purchase line of the customer, written 1-21 days later.
    lines_per_cust = np.bincount(oc[lo], minlength=n)
    n_rev = np.where(
        rng.random(n) < per("p_review")[persona],
        1 + np.minimum(rng.poisson(per("reviews_extra")[persona]), 4),
        0,
    )
    n_rev = np.minimum(n_rev, lines_per_cust)
    # Lines are grouped by customer already; shuffle inside each customer, keep the first n_rev.
    shuffled = np.argsort(oc[lo] + 0.5 * rng.random(L), kind="stable")
    cust_start = np.cumsum(lines_per_cust) - lines_per_cust
    within = np.arange(L) - cust_start[oc[lo]]  # position inside the customer (sorted order)
    chosen = shuffled[within < n_rev[oc[lo]]]
    R = len(chosen)
    rev_cust = oc[lo[chosen]]
    rev_persona = persona[rev_cust]
    bought = order_sec[lo[chosen]]
    rev_sec = bought + rng.integers(_DAY, 21 * _DAY, size=R)
    late = rev_sec > end_sec
    rev_sec[late] = bought[late] + np.maximum(
        1, ((end_sec - bought[late]) * (0.05 + 0.95 * rng.random(int(late.sum())))).astype(np.int64)
    )
    rating = 1 + _draw_by_group(rng, rev_persona, np.array([s.rating for s in specs]))
    rev_prod = product[chosen]
    texts = _review_texts(
        rng, rev_persona, products["product_name"].to_numpy()[rev_prod], names, lang
    )
    # Reviews in time order, numbered R0000001...
    rsrt = np.lexsort((np.arange(R), rev_sec))
    reviews = pa.table(
        {
            "review_id": _ids("R", np.arange(1, R + 1), 7),
            "customer_id": _ids("C", rev_cust[rsrt] + 1, 7),
            "product_id": pid.take(rev_prod[rsrt]),
            "review_date": _timestamps(rev_sec[rsrt]),
            "rating": rating[rsrt].astype(float),
            "review_text": pa.array(texts, pa.string()).take(rsrt),
        }
    )
    del texts
    reviews = _to_pandas(reviews)

    tables = {"customers": customers, "orders": orders, "products": products, "reviews": reviews}
    for t, df in tables.items():
        cols = SCHEMAS[t].column_names + (["persona"] if t == "customers" else [])
        if list(df.columns) != cols:
            tables[t] = df[cols]
    return tables


def write_demo_files(tables: dict[str, pd.DataFrame], out_dir, fmt: str = "csv") -> dict[str, Path]:
    """Write each table to ``out_dir/<table>.csv`` (or ``.parquet``); returns the paths."""
    fmt = fmt.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, df in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        paths[name] = path
    return paths


# ---------------------------------------------------------------------- helpers


def _lines(purchased: np.ndarray, returned: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Purchase lines then return lines, in transaction order."""
    return np.concatenate([purchased, returned])[order]


def _col2(specs: list[_Persona], attr: str, i: int) -> np.ndarray:
    return np.array([getattr(s, attr)[i] for s in specs], dtype=float)


def _draw_by_group(rng: np.random.Generator, group: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """One categorical draw per row, from the weight row of its group (rows × classes)."""
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(group))
    out = np.empty(len(group), dtype=np.int64)
    for g in range(len(w)):
        sel = group == g
        out[sel] = np.searchsorted(cum[g], u[sel], side="right")
    return np.minimum(out, w.shape[1] - 1)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + zero-padded numbers as an Arrow string array, without Python objects."""
    nums = np.asarray(numbers, dtype=np.int64)
    width = max(width, len(str(int(nums.max()))) if len(nums) else width)
    p = prefix.encode()
    w = len(p) + width
    buf = np.empty((len(nums), w), dtype=np.uint8)
    buf[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    x = nums.copy()
    for k in range(w - 1, len(p) - 1, -1):
        buf[:, k] = 48 + x % 10
        x //= 10
    offsets = np.arange(0, (len(nums) + 1) * w, w, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        len(nums), pa.py_buffer(offsets), pa.py_buffer(buf)
    ).cast(pa.string())


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow → pandas, releasing Arrow buffers column by column (str dtype on pandas 3)."""
    return table.to_pandas(split_blocks=True, self_destruct=True)


def _take(values, idx: np.ndarray) -> pa.Array:
    return pa.array(list(values), pa.string()).take(np.asarray(idx, dtype=np.int64))


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(
        np.asarray(seconds, dtype=np.int64).astype("datetime64[s]").astype("datetime64[ns]")
    )


def _seasonal_days(
    rng: np.random.Generator, day: np.ndarray, first: np.ndarray, last: np.ndarray, y0: int, y1: int
) -> np.ndarray:
    """Move gift orders to the run-up to Christmas, Valentine's or Mother's Day (when possible)."""
    k = len(day)
    kind = rng.choice(3, size=k, p=[0.78, 0.1, 0.12])
    anchor_month = np.array([12, 2, 5])[kind]  # 24 Dec, 14 Feb, 10 May
    anchor_dom = np.array([24, 14, 10])[kind]
    lead = np.array([40, 14, 16])[kind]  # days of shopping before the anchor
    out = np.full(k, -1, dtype=np.int64)
    years = np.arange(y0, y1 + 1)
    for _ in range(4):
        y = rng.choice(years, size=k)
        back = (rng.random(k) * (lead + 1)).astype(np.int64)
        months = ((y - 1970) * 12 + anchor_month - 1).astype("datetime64[M]")
        cand = months.astype("datetime64[D]").astype(np.int64) + anchor_dom - 1 - back
        ok = (out < 0) & (cand >= first) & (cand <= last)
        out[ok] = cand[ok]
    off_season = rng.random(k) < 0.08  # some gift buyers also shop at other times
    return np.where((out >= 0) & ~off_season, out, day)


def _products(rng: np.random.Generator) -> pd.DataFrame:
    """Ten items per category, each in a plain and one variant edition: 200 products."""
    cats, names, base, descs = [], [], [], []
    for cat in CATEGORIES:
        items, variants, snippets = _CATALOGUE[cat]
        pick = rng.integers(0, len(variants), size=len(items))
        for (name, price), v in zip(items, pick, strict=True):
            template, factor = variants[int(v)]
            for nm, f in ((name, 1.0), (template.format(name), factor)):
                a, b = rng.choice(len(snippets), size=2, replace=False)
                cats.append(cat)
                names.append(nm)
                base.append(price * f)
                descs.append(f"{nm}: {snippets[a]}, {snippets[b]}.")
    raw = np.array(base) * rng.uniform(0.85, 1.2, size=len(base))
    price = np.where(raw >= 10, np.round(raw) - 0.01, np.round(raw, 1) - 0.01)
    price = np.maximum(price, 0.99)
    n = len(names)
    return pa.table(
        {
            "product_id": _ids("P", np.arange(1, n + 1), 4),
            "product_name": pa.array(names, pa.string()),
            "category": pa.array(cats, pa.string()),
            "price": np.round(price, 2),
            "description": pa.array(descs, pa.string()),
        }
    ).to_pandas()


def _review_texts(
    rng: np.random.Generator,
    persona: np.ndarray,
    product: np.ndarray,
    names: list[str],
    lang: str = "en",
) -> list[str]:
    """One to three persona sentences and zero to two neutral ones, in varying order.

    About 10% of reviews swap a persona sentence for a neutral one and 4% borrow a sentence from
    another persona, so the vocabularies overlap a little, as real ones do.
    """
    R = len(persona)
    P = len(names)
    phrases, neutral, sep = REVIEW_LANGS[lang]
    banks = [phrases[p] for p in names]
    nb = np.array([len(b) for b in banks])[persona]
    # Three distinct sentence indices per review from its persona bank.
    i0 = (rng.random(R) * nb).astype(np.int64)
    i1 = (i0 + 1 + (rng.random(R) * (nb - 1)).astype(np.int64)) % nb
    i2 = (rng.random(R) * (nb - 2)).astype(np.int64)
    lo_, hi_ = np.minimum(i0, i1), np.maximum(i0, i1)
    i2 += i2 >= lo_
    i2 += i2 >= hi_
    k = 1 + (rng.random(R) < 0.75) + (rng.random(R) < 0.25)  # persona sentences
    nn = len(neutral)
    n0 = rng.integers(0, nn, R)
    n1 = (n0 + 1 + rng.integers(0, nn - 1, R)) % nn
    j = rng.choice(3, size=R, p=[0.35, 0.5, 0.15])  # neutral sentences
    swap = rng.random(R) < 0.10
    j = np.where(swap & (k == 1), np.maximum(j, 1), j)  # never a review of neutral filler only
    k = np.where(swap & (k > 1), k - 1, k)
    j = np.where(swap & (j < 2), j + 1, j)
    cross = rng.random(R) < 0.04
    other = (persona + 1 + rng.integers(0, P - 1, R)) % P
    other_i = rng.random(R)
    at0 = rng.integers(0, 4, R)  # where the neutral sentences go
    at1 = rng.integers(0, 5, R)

    out: list[str] = []
    for pe, a, b, c, kk, x, y, jj, cr, ot, oi, p0, p1, prod in zip(
            persona.tolist(), i0.tolist(), i1.tolist(), i2.tolist(), k.tolist(), n0.tolist(),
            n1.tolist(), j.tolist(), cross.tolist(), other.tolist(), other_i.tolist(),
            at0.tolist(), at1.tolist(), product.tolist(), strict=True,
    ):  # fmt: skip
        bank = banks[pe]
        parts = [bank[a], bank[b], bank[c]][:kk]
        if cr:
            ob = banks[ot]
            parts[0] = ob[int(oi * len(ob))]
        if jj:
            parts.insert(p0 % (len(parts) + 1), neutral[x])
            if jj > 1:
                parts.insert(p1 % (len(parts) + 1), neutral[y])
        out.append(sep.join(parts).replace("{p}", prod))
    return out
