"""Column-name synonyms: which source column plays which canonical role.

Names are compared after `normalize_name` (lower case, spaces / underscores / punctuation
removed, CJK kept), so `Customer ID`, `customer_id`, `CustomerID` and `customer-id` are one
name. Each list is in order of preference: when two source columns claim the same canonical
column, the one matching earlier in its list wins.
"""

from __future__ import annotations

import re

_NON_WORD = re.compile(r"[\W_]+", flags=re.UNICODE)


def normalize_name(name: object) -> str:
    """`Customer ID` → `customerid`; `用户 ID` → `用户id`."""
    return _NON_WORD.sub("", str(name).strip().lower())


CUSTOMER_ID = [
    "customer_id", "customerid", "customer id", "cust_id", "customer_no", "customer_number",
    "customer_code", "cust_no", "client_id", "member_id", "user_id", "buyer_id", "account_id",
    "shopper_id", "consumer_id", "reviewer_id", "uid", "customer", "client", "member", "user",
    "buyer", "reviewer",
    "cust", "account", "customer_key", "user_no", "member_no",
    "用户id", "客户id", "会员id", "买家id", "顾客id", "客户编号", "会员编号", "用户编号",
    "客户号", "会员号", "用户号", "买家", "客户", "用户", "会员", "顾客", "会员卡号",
]  # fmt: skip

ORDER_ID = [
    "order_id", "orderid", "order_no", "order_number", "order_code", "invoice_no", "invoice_id",
    "invoice_number", "invoice", "transaction_id", "txn_id", "receipt_id", "receipt_no",
    "basket_id", "purchase_id", "order", "transaction", "txn", "receipt",
    "订单号", "订单编号", "订单id", "订单", "交易号", "交易id", "交易编号", "流水号", "发票号",
]  # fmt: skip

ORDER_DATE = [
    "order_date", "invoice_date", "order_datetime", "order_time", "purchase_date",
    "purchase_time", "transaction_date", "transaction_time", "txn_date", "txn_time",
    "ordered_at", "purchased_at", "order_timestamp", "invoice_datetime", "date", "datetime",
    "timestamp", "time", "created_at", "created", "sale_date", "payment_date", "paid_at",
    "下单时间", "订单日期", "购买时间", "下单日期", "订单时间", "交易时间", "交易日期",
    "购买日期", "支付时间", "付款时间", "创建时间", "日期", "时间",
]  # fmt: skip

PRODUCT_ID = [
    "product_id", "productid", "product_code", "product_no", "sku", "sku_id", "item_id",
    "item_code", "stock_code", "article_id", "goods_id", "item_no", "asin", "product", "item",
    "article", "商品id", "商品编号", "商品编码", "产品id", "产品编号", "sku编码", "货号",
]  # fmt: skip

PRODUCT_NAME = [
    "product_name", "item_name", "product_title", "item_title", "goods_name", "title", "name", "商品名称", "商品名", "产品名称", "品名", "商品标题", "商品",
]  # fmt: skip

CATEGORY = [
    "category", "product_category", "category_name", "item_category", "cat", "department",
    "product_line", "product_type", "subcategory", "类目", "品类", "类别", "商品类目",
    "分类", "商品分类", "一级类目", "商品类别",
]  # fmt: skip

QUANTITY = [
    "quantity", "qty", "quantity_ordered", "units", "unit_count", "pieces", "pcs", "count",
    "num", "number_of_items", "items", "数量", "购买数量", "件数", "商品数量", "购买件数",
]  # fmt: skip

UNIT_PRICE = [
    "unit_price", "unitprice", "price", "price_each", "item_price", "product_price",
    "sale_price", "selling_price", "list_price", "单价", "商品单价", "价格", "售价", "销售单价",
]  # fmt: skip

DISCOUNT = [
    "discount", "discount_rate", "discount_pct", "discount_percent", "disc", "折扣", "折扣率",
    "优惠", "优惠率",
]  # fmt: skip

AMOUNT = [
    "amount", "total", "total_amount", "order_total", "line_total", "order_amount",
    "net_amount", "amount_paid", "paid_amount", "payment_amount", "revenue", "sales",
    "sales_amount", "value", "order_value", "line_value", "total_price", "subtotal", "gmv",
    "spend", "payment", "paid", "monetary",
    "金额", "实付金额", "订单金额", "支付金额", "付款金额", "销售额", "总价", "总金额",
    "实付", "消费金额", "交易金额", "实收金额",
]  # fmt: skip

SIGNUP_DATE = [
    "signup_date", "sign_up_date", "signup", "registration_date", "register_date",
    "registered_at", "registered", "registration_time", "join_date", "joined_at", "joined",
    "member_since", "customer_since", "dt_customer", "first_seen", "created_at",
    "account_created",
    "注册时间", "注册日期", "开户时间", "入会时间", "入会日期", "首次购买时间",
]  # fmt: skip

REGION = [
    "region", "country", "province", "state", "city", "location", "area", "market",
    "territory", "geo", "地区", "区域", "国家", "省份", "省", "城市", "所在地", "所在城市",
]  # fmt: skip

# A plain numeric "age" column stays an extra (numeric) attribute rather than a band.
AGE_BAND = ["age_band", "age_group", "age_range", "age_bracket", "年龄段", "年龄组"]

GENDER = ["gender", "sex", "性别"]

CHANNEL = [
    "channel", "acquisition_channel", "signup_channel", "source", "acquisition_source",
    "platform", "渠道", "来源", "注册渠道", "获客渠道", "平台",
]  # fmt: skip

LABEL = [
    "label", "segment", "customer_segment", "customer_group", "churn", "churned", "is_churn",
    "group", "class", "cluster", "target", "tier", "persona", "customer_type",
    "标签", "分群", "客户分群", "客户分组", "分组", "用户分层", "客户类型", "流失",
]  # fmt: skip

REVIEW_ID = ["review_id", "comment_id", "feedback_id", "评论id", "评价id", "评论编号"]

REVIEW_DATE = [
    "review_date", "review_time", "comment_date", "comment_time", "reviewed_at", "date",
    "datetime", "timestamp", "time", "created_at", "评论时间", "评价时间", "评论日期",
    "评价日期", "日期", "时间",
]  # fmt: skip

RATING = [
    "rating", "stars", "star", "star_rating", "review_rating", "review_score", "overall", "score",
    "评分", "星级", "打分", "分数", "评分星级",
]  # fmt: skip

REVIEW_TEXT = [
    "review_text", "review", "review_body", "review_content", "text", "comment", "comments",
    "feedback", "content", "body", "评论", "评价内容", "评价", "评论内容", "内容", "留言",
]  # fmt: skip

PRODUCT_DESCRIPTION = [
    "description", "product_description", "item_description", "desc", "details", "描述",
    "商品描述", "商品详情", "详情",
]  # fmt: skip

PRICE = ["price", "list_price", "unit_price", "retail_price", "价格", "单价", "售价"]

# Orders files (e.g. UCI Online Retail) call the product name "Description".
# A bare "name" in an orders file is as likely the customer's name, so it is not guessed there.
ORDER_PRODUCT_NAME = [n for n in PRODUCT_NAME if n != "name"] + [
    "description", "product_description", "item_description",
]  # fmt: skip

# A bare "id" is the key of the table it is in (but not guessed for orders, where it is as
# often a line number).
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "customers": {
        "customer_id": CUSTOMER_ID + ["id"],
        "signup_date": SIGNUP_DATE,
        "region": REGION,
        "age_band": AGE_BAND,
        "gender": GENDER,
        "channel": CHANNEL,
        "label": LABEL,
    },
    "orders": {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "order_date": ORDER_DATE,
        "product_id": PRODUCT_ID,
        "product_name": ORDER_PRODUCT_NAME,
        "category": CATEGORY,
        "quantity": QUANTITY,
        "unit_price": UNIT_PRICE,
        "discount": DISCOUNT,
        "amount": AMOUNT,
    },
    "products": {
        "product_id": PRODUCT_ID + ["id"],
        "product_name": PRODUCT_NAME,
        "category": CATEGORY,
        "price": PRICE,
        "description": PRODUCT_DESCRIPTION,
    },
    "reviews": {
        "review_id": REVIEW_ID + ["id"],
        "customer_id": CUSTOMER_ID,
        "product_id": PRODUCT_ID,
        "review_date": REVIEW_DATE,
        "rating": RATING,
        "review_text": REVIEW_TEXT,
    },
}

# Second-tier hints: a normalised name *containing* one of these words (and, where given,
# one of the `also` words) is a candidate for the column. Checked against values where the
# column has a type (dates must parse, numbers must be numbers).
KEYWORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "customer_id": (
        ("customer", "cust", "client", "user", "member", "buyer", "shopper", "客户", "用户",
         "会员", "买家", "顾客"),
        ("id", "no", "num", "code", "key", "编号", "号", "账号"),
    ),
    "order_id": (("order", "invoice", "transaction", "txn", "订单", "交易"),
                 ("id", "no", "num", "code", "号", "编号")),
    "product_id": (("product", "item", "sku", "stock", "article", "goods", "商品", "产品"),
                   ("id", "no", "code", "编号", "编码", "号")),
    "order_date": (("date", "time", "日期", "时间"), ()),
    "review_date": (("date", "time", "日期", "时间"), ()),
    "signup_date": (("signup", "regist", "join", "since", "注册", "入会"), ()),
    "amount": (("amount", "revenue", "sales", "total", "金额", "销售额", "总价"), ()),
    "unit_price": (("price", "价"), ()),
    "price": (("price", "价"), ()),
    "quantity": (("qty", "quantity", "数量", "件数"), ()),
    "rating": (("rating", "star", "score", "评分", "星"), ()),
    "review_text": (("review", "comment", "feedback", "评论", "评价"), ()),
    "category": (("category", "类目", "品类", "分类"), ()),
    "region": (("region", "country", "city", "province", "地区", "城市", "省"), ()),
    "label": (("segment", "label", "churn", "cluster", "标签", "分群"), ()),
}  # fmt: skip

# How strongly a matched canonical column says "this file is that table" (guess_table).
TABLE_SIGNALS: dict[str, dict[str, float]] = {
    "orders": {
        "order_date": 3, "amount": 3, "quantity": 2, "unit_price": 2, "order_id": 2,
        "discount": 1, "customer_id": 1, "product_id": 0.5, "category": 0.25,
        "product_name": 0.25,
    },
    "customers": {
        "customer_id": 1.5, "signup_date": 3, "region": 2, "age_band": 2, "gender": 2,
        "channel": 2, "label": 2,
    },
    "reviews": {"review_text": 4, "rating": 3, "review_id": 3, "review_date": 0.5,
                "customer_id": 1, "product_id": 0.25},
    "products": {"product_id": 2, "product_name": 1.5, "category": 1, "price": 1.5,
                 "description": 2},
}  # fmt: skip
