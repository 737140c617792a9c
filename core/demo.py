"""The built-in demo store: a deterministic synthetic shop with planted personas.

Customers, products (10 categories), two years of order lines (discounts, returns as negative
lines) and review text. Every customer belongs to one of eight personas, stored in the
ground-truth column ``customers.persona`` so segmentation can be scored (ARI).

Two personas — ``eco_conscious`` and ``tech_enthusiast`` — are drawn from the *same* numeric
distributions (orders, spend, categories, discounts, returns, sign-up dates); only their review
text differs. Numbers alone cannot tell them apart, so text genuinely matters.

Everything is vectorised with numpy, so a million customers is minutes, not hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.schema import SCHEMAS

PERSONAS: dict[str, str] = {
    "loyal_high_value": "Buys often all year, spends a lot on premium categories, rarely returns",
    "bargain_hunter": "Many small orders, heavy discounts and coupons, everyday categories",
    "new_potential": "Signed up in the last three months, one to three first orders",
    "lapsing_churned": "Bought in the first year, nothing in the last nine months",
    "gift_seasonal": "Buys around Christmas, Valentine's and Mother's Day: toys, jewellery, beauty",
    "unhappy_returner": "Returns a large share of purchases and writes unhappy reviews",
    "eco_conscious": "Regular mid-value shopper whose reviews are about sustainability",
    "tech_enthusiast": "Same numbers as eco_conscious, but reviews are about specs and new releases",
}

CATEGORIES = (
    "Electronics", "Fashion", "Home & Kitchen", "Beauty", "Sports & Outdoors",
    "Books", "Toys & Games", "Grocery", "Jewelry", "Baby",
)

_PRODUCTS: dict[str, tuple[tuple[float, float], tuple[str, ...]]] = {
    "Electronics": ((40, 900), ("Wireless Earbuds", "Smart Watch", "Bluetooth Speaker", "4K Monitor",
                                "Mechanical Keyboard", "Noise-Cancelling Headphones", "Tablet",
                                "Portable Charger", "Action Camera", "Gaming Mouse")),
    "Fashion": ((15, 180), ("Denim Jacket", "Running Sneakers", "Wool Scarf", "Leather Belt",
                            "Linen Shirt", "Rain Coat", "Chino Trousers", "Knit Sweater")),
    "Home & Kitchen": ((10, 250), ("Espresso Maker", "Cast Iron Pan", "Bamboo Cutting Board",
                                   "Air Fryer", "Cotton Bedsheets", "Glass Storage Jars",
                                   "Ceramic Vase", "Desk Lamp")),
    "Beauty": ((8, 90), ("Vitamin C Serum", "Perfume Gift Set", "Lip Balm Trio", "Face Mask Pack",
                         "Hair Dryer", "Nail Polish Set")),
    "Sports & Outdoors": ((12, 300), ("Yoga Mat", "Camping Tent", "Water Bottle", "Trail Backpack",
                                      "Dumbbell Set", "Cycling Helmet")),
    "Books": ((6, 45), ("Cookbook", "Mystery Novel", "Travel Guide", "Science Fiction Novel",
                        "Children's Picture Book", "Productivity Handbook")),
    "Toys & Games": ((8, 120), ("Building Blocks Set", "Board Game", "Plush Bear", "Puzzle 1000 pcs",
                                "Remote Control Car", "Doll House")),
    "Grocery": ((3, 40), ("Organic Coffee Beans", "Olive Oil", "Green Tea", "Granola",
                          "Dark Chocolate", "Pasta Pack", "Snack Box")),
    "Jewelry": ((30, 800), ("Silver Necklace", "Gold Earrings", "Charm Bracelet", "Diamond Ring",
                            "Pearl Pendant")),
    "Baby": ((6, 150), ("Baby Stroller", "Diaper Pack", "Baby Monitor", "Soft Blanket",
                        "Teething Toy")),
}


@dataclass(frozen=True)
class _Persona:
    share: float
    orders_mean: float
    lines_extra: float  # mean extra lines per order (Poisson)
    qty_extra: float  # mean extra units per line (Poisson)
    cats: tuple[float, ...]  # weights over CATEGORIES
    price_pos: tuple[float, float]  # Beta(a, b) position inside the category price range
    discount: tuple[float, float, float]  # P(discount), Beta(a, b) of the discount size
    p_return: float
    p_review: float
    rating: tuple[float, ...]  # weights for 1..5 stars


_SAME_NUMBERS = dict(  # eco_conscious and tech_enthusiast share every number
    share=0.12, orders_mean=7.0, lines_extra=0.5, qty_extra=0.2,
    cats=(0.22, 0.16, 0.2, 0.06, 0.14, 0.08, 0.02, 0.06, 0.02, 0.04),
    price_pos=(2.0, 3.0), discount=(0.25, 2.0, 12.0), p_return=0.05, p_review=0.97,
    rating=(0.02, 0.03, 0.1, 0.4, 0.45),
)

_SPECS: dict[str, _Persona] = {
    "loyal_high_value": _Persona(0.12, 16.0, 0.8, 0.3, (0.3, 0.12, 0.12, 0.06, 0.08, 0.04, 0.02, 0.02, 0.2, 0.04),
                                 (4.0, 1.6), (0.1, 2.0, 30.0), 0.02, 0.85, (0.0, 0.02, 0.05, 0.33, 0.6)),
    "bargain_hunter": _Persona(0.16, 13.0, 0.4, 1.2, (0.04, 0.1, 0.26, 0.1, 0.04, 0.06, 0.04, 0.32, 0.0, 0.04),
                               (1.2, 5.0), (0.9, 6.0, 8.0), 0.05, 0.85, (0.03, 0.07, 0.3, 0.4, 0.2)),
    "new_potential": _Persona(0.12, 2.0, 0.5, 0.2, (0.16, 0.18, 0.16, 0.12, 0.1, 0.08, 0.06, 0.06, 0.04, 0.04),
                              (2.0, 2.5), (0.5, 2.0, 10.0), 0.04, 0.8, (0.02, 0.04, 0.14, 0.4, 0.4)),
    "lapsing_churned": _Persona(0.16, 5.0, 0.4, 0.2, (0.14, 0.18, 0.16, 0.1, 0.1, 0.1, 0.06, 0.08, 0.04, 0.04),
                                (2.0, 3.0), (0.3, 2.0, 10.0), 0.06, 0.85, (0.1, 0.25, 0.4, 0.2, 0.05)),
    "gift_seasonal": _Persona(0.10, 4.0, 0.7, 0.3, (0.08, 0.04, 0.02, 0.22, 0.02, 0.04, 0.32, 0.02, 0.22, 0.02),
                              (2.5, 2.0), (0.3, 2.0, 10.0), 0.06, 0.85, (0.0, 0.02, 0.08, 0.4, 0.5)),
    "unhappy_returner": _Persona(0.10, 7.0, 0.5, 0.2, (0.2, 0.3, 0.14, 0.08, 0.08, 0.04, 0.04, 0.04, 0.04, 0.04),
                                 (2.0, 2.5), (0.3, 2.0, 10.0), 0.4, 0.92, (0.5, 0.35, 0.1, 0.04, 0.01)),
    "eco_conscious": _Persona(**_SAME_NUMBERS),
    "tech_enthusiast": _Persona(**_SAME_NUMBERS),
}

# Review phrase banks. Each review takes two persona sentences and one neutral sentence.
_PHRASES: dict[str, tuple[str, ...]] = {
    "loyal_high_value": (
        "Premium quality as always, worth every penny.", "I keep coming back because the quality never disappoints.",
        "Excellent craftsmanship and the {p} feels luxurious.", "Another flawless purchase from my favourite shop.",
        "Top-notch build quality, I recommend it to friends.", "Fast delivery and superb quality, a loyal customer for years.",
        "The {p} exceeded my expectations, outstanding materials.", "Consistently excellent service and quality products.",
    ),
    "bargain_hunter": (
        "Great deal, I used a coupon and saved a lot.", "Bought it on sale with a discount code, cheap and cheerful.",
        "Good value for money at this price.", "Waited for the flash sale and got the {p} half price.",
        "Cheapest price I could find, stacked two vouchers.", "Bulk deal was a bargain, will buy more when discounted.",
        "Only bought it because of the promotion, decent for the price.", "Price drop alert paid off, great bargain.",
    ),
    "new_potential": (
        "First order here and so far so good.", "New customer, pleasantly surprised by the {p}.",
        "Just discovered this shop, the first impression is positive.", "My first purchase, easy checkout and quick delivery.",
        "Trying this store for the first time, looking forward to ordering again.", "Signed up recently and the welcome offer was nice.",
    ),
    "lapsing_churned": (
        "It was okay, nothing special.", "The {p} is fine but I found better options elsewhere.",
        "Average experience, delivery took a while.", "Used to shop here more often, the selection got worse.",
        "Not sure I will order again, prices went up.", "Meh, does the job.",
    ),
    "gift_seasonal": (
        "Bought this as a Christmas gift for my daughter and she loved it.", "Perfect present, the gift wrapping was beautiful.",
        "Ordered the {p} as a birthday gift for my wife.", "Great holiday gift, arrived before Christmas.",
        "Lovely gift box, my mother was delighted on Mother's Day.", "Valentine's present, beautifully wrapped.",
        "Got it for my nephew for the holidays, he was thrilled.", "Nice gift idea, came with a card.",
    ),
    "unhappy_returner": (
        "Arrived broken and I had to return it.", "Terrible quality, requested a refund.",
        "The {p} stopped working after two days, sending it back.", "Customer service was slow to answer my complaint.",
        "Wrong size again, returned it, very disappointed.", "Defective item, the refund took weeks.",
        "Poor packaging, the {p} was damaged on arrival.", "Does not match the description, returning it.",
    ),
    "eco_conscious": (
        "Love that the packaging is plastic-free and recyclable.", "Sustainably made, I care about ethical sourcing.",
        "The {p} is made from recycled materials, great for the planet.", "Eco-friendly choice with minimal packaging waste.",
        "Happy to support a brand with fair trade and organic materials.", "Low carbon shipping option made me choose this.",
        "Durable and repairable, so less waste in the long run.", "Compostable packaging, very environmentally conscious.",
    ),
    "tech_enthusiast": (
        "Upgraded to the latest model, the specs are impressive.", "Pre-ordered on release day, the new firmware is fast.",
        "Benchmarks show a big performance jump over last generation.", "The {p} has cutting-edge features and great battery life.",
        "Early adopter here, the new release is worth the upgrade.", "Compared the specs with competitors, this one wins.",
        "Latest generation chip, blazing fast and smooth.", "Tech reviewers were right, the new version is a leap forward.",
    ),
}
_NEUTRAL = (
    "Delivery was on time.", "Ordered the {p} last month.", "It matches the photos.",
    "The size is as described.", "Packaging was fine.", "Arrived in two days.",
    "I use the {p} every week.", "Colour is as shown.",
)

REGIONS = ("North", "South", "East", "West", "Central")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
CHANNELS = ("app", "web", "store", "social")
GENDERS = ("female", "male", "other")


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    s = pd.Series(numbers, dtype="int64").astype(str).str.zfill(width)
    return (prefix + s).to_numpy(dtype=object)


def _products(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for cat in CATEGORIES:
        (lo, hi), names = _PRODUCTS[cat]
        for name in names:
            for variant in ("", " Pro", " Lite")[: 1 + int(rng.integers(0, 3))]:
                rows.append((cat, f"{name}{variant}", lo, hi))
    n = len(rows)
    cat = np.array([r[0] for r in rows], dtype=object)
    lo = np.array([r[2] for r in rows])
    hi = np.array([r[3] for r in rows])
    pos = rng.random(n)
    price = np.round(lo + (hi - lo) * pos, 2)
    names = np.array([r[1] for r in rows], dtype=object)
    return pd.DataFrame(
        {
            "product_id": _ids("P", np.arange(1, n + 1), 4),
            "product_name": names,
            "category": cat,
            "price": price,
            "description": [f"{nm} — {c.lower()} essential" for nm, c in zip(names, cat, strict=True)],
        }
    )


def generate_demo_store(
    n_customers: int = 20_000, seed: int = 0, *, end_date: str = "2026-06-30", months: int = 24
) -> dict[str, pd.DataFrame]:
    """customers, orders, products, reviews — identical for the same (n_customers, seed)."""
    if n_customers < 1:
        raise ValueError("n_customers must be at least 1")
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(end_date)
    start = end - pd.DateOffset(months=months)
    end_day = int((end - pd.Timestamp("1970-01-01")).days)
    start_day = int((start - pd.Timestamp("1970-01-01")).days)

    products = _products(rng)
    names = list(PERSONAS)
    shares = np.array([_SPECS[p].share for p in names])
    persona_idx = rng.choice(len(names), size=n_customers, p=shares / shares.sum())
    n = n_customers

    # ------------------------------------------------------------------ customers
    signup = rng.integers(start_day - 365, end_day - 200, size=n)
    is_new = persona_idx == names.index("new_potential")
    signup[is_new] = rng.integers(end_day - 90, end_day - 3, size=is_new.sum())
    is_lapsing = persona_idx == names.index("lapsing_churned")
    signup[is_lapsing] = rng.integers(start_day - 365, start_day + 60, size=is_lapsing.sum())
    customers = pd.DataFrame(
        {
            "customer_id": _ids("C", np.arange(1, n + 1), 7),
            "signup_date": pd.to_datetime(signup, unit="D"),
            "region": np.array(REGIONS, dtype=object)[rng.integers(0, len(REGIONS), n)],
            "age_band": np.array(AGE_BANDS, dtype=object)[
                rng.choice(len(AGE_BANDS), n, p=[0.12, 0.28, 0.24, 0.18, 0.11, 0.07])
            ],
            "gender": np.array(GENDERS, dtype=object)[rng.choice(3, n, p=[0.52, 0.45, 0.03])],
            "channel": np.array(CHANNELS, dtype=object)[rng.choice(4, n, p=[0.45, 0.35, 0.1, 0.1])],
            "label": pd.Series([None] * n, dtype=object),
            "persona": np.array(names, dtype=object)[persona_idx],
        }
    )

    # --------------------------------------------------------------------- orders
    orders_mean = np.array([_SPECS[p].orders_mean for p in names])[persona_idx]
    n_orders = np.maximum(1, rng.poisson(orders_mean))
    n_orders[is_new] = rng.integers(1, 4, size=is_new.sum())
    cust_of_order = np.repeat(np.arange(n), n_orders)
    m = len(cust_of_order)
    p_of_order = persona_idx[cust_of_order]
    first = np.maximum(signup[cust_of_order], start_day)
    last = np.full(m, end_day)
    last[p_of_order == names.index("lapsing_churned")] = end_day - 280
    first = np.minimum(first, last - 1)
    day = first + (rng.random(m) * (last - first)).astype(np.int64)
    # Gift buyers: most orders in the weeks before Christmas, some around 14 Feb / Mother's Day.
    gift = p_of_order == names.index("gift_seasonal")
    if gift.any():
        k = int(gift.sum())
        years = rng.choice([end.year - 2, end.year - 1], size=k)
        kind = rng.choice(3, size=k, p=[0.75, 0.12, 0.13])
        month = np.select([kind == 0, kind == 1], [12, 2], 5)
        dom = np.select([kind == 0, kind == 1], [rng.integers(1, 22, k), rng.integers(1, 14, k)],
                        rng.integers(1, 11, k))
        nov = (kind == 0) & (rng.random(k) < 0.35)
        month = np.where(nov, 11, month)
        dom = np.where(nov, rng.integers(15, 31, k), dom)
        gdays = (pd.to_datetime(pd.DataFrame({"year": years, "month": month, "day": dom}))
                 - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
        ok = (gdays >= first[gift]) & (gdays <= end_day)
        day[gift] = np.where(ok, gdays, day[gift])
    seconds = rng.integers(8 * 3600, 23 * 3600, size=m)
    order_ts = pd.to_datetime(day, unit="D") + pd.to_timedelta(seconds, unit="s")
    # Orders numbered in time order, so ids read naturally.
    order_rank = np.argsort(np.argsort(day * 86400 + seconds, kind="stable"), kind="stable")

    lines_extra = np.array([_SPECS[p].lines_extra for p in names])[p_of_order]
    n_lines = 1 + np.minimum(rng.poisson(lines_extra), 3)
    order_of_line = np.repeat(np.arange(m), n_lines)
    L = len(order_of_line)
    p_of_line = p_of_order[order_of_line]

    cat_weights = np.array([_SPECS[p].cats for p in names])
    cat_weights = cat_weights / cat_weights.sum(axis=1, keepdims=True)
    cum = np.cumsum(cat_weights, axis=1)[p_of_line]
    cat_idx = (rng.random(L)[:, None] > cum).sum(axis=1)
    cat_idx = np.minimum(cat_idx, len(CATEGORIES) - 1)
    prod_cat = products["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy()
    prod_price = products["price"].to_numpy()
    # Within a category, the persona's price position picks cheaper or pricier products.
    price_a = np.array([_SPECS[p].price_pos[0] for p in names])[p_of_line]
    price_b = np.array([_SPECS[p].price_pos[1] for p in names])[p_of_line]
    pos = rng.beta(price_a, price_b)
    product_idx = np.empty(L, dtype=np.int64)
    for c in range(len(CATEGORIES)):
        members = np.flatnonzero(prod_cat == c)
        members = members[np.argsort(prod_price[members], kind="stable")]
        sel = cat_idx == c
        product_idx[sel] = members[np.minimum((pos[sel] * len(members)).astype(int), len(members) - 1)]

    qty = 1 + rng.poisson(np.array([_SPECS[p].qty_extra for p in names])[p_of_line])
    d_p = np.array([_SPECS[p].discount[0] for p in names])[p_of_line]
    d_a = np.array([_SPECS[p].discount[1] for p in names])[p_of_line]
    d_b = np.array([_SPECS[p].discount[2] for p in names])[p_of_line]
    discount = np.where(rng.random(L) < d_p, np.round(rng.beta(d_a, d_b), 2), 0.0)
    unit_price = prod_price[product_idx]
    amount = np.round(qty * unit_price * (1 - discount), 2)

    # Returns: a later negative line for some purchased lines.
    p_ret = np.array([_SPECS[p].p_return for p in names])[p_of_line]
    line_day = day[order_of_line]
    ret_day = line_day + rng.integers(3, 31, size=L)
    is_ret = (rng.random(L) < p_ret) & (ret_day <= end_day)
    r_src = np.flatnonzero(is_ret)

    oid = _ids("O", order_rank + 1, 8)
    cid = customers["customer_id"].to_numpy()
    pid = products["product_id"].to_numpy()
    purchases = pd.DataFrame(
        {
            "order_id": oid[order_of_line],
            "customer_id": cid[cust_of_order][order_of_line],
            "order_date": order_ts[order_of_line],
            "product_id": pid[product_idx],
            "product_name": products["product_name"].to_numpy()[product_idx],
            "category": np.array(CATEGORIES, dtype=object)[cat_idx],
            "quantity": qty.astype(float),
            "unit_price": unit_price,
            "discount": discount,
            "amount": amount,
        }
    )
    returns = purchases.iloc[r_src].copy()
    returns["order_id"] = "R" + returns["order_id"].str.slice(1)
    returns["order_date"] = pd.to_datetime(ret_day[r_src], unit="D") + pd.to_timedelta(
        rng.integers(8 * 3600, 20 * 3600, size=len(r_src)), unit="s"
    )
    returns["quantity"] = -returns["quantity"]
    returns["amount"] = -returns["amount"]
    orders = pd.concat([purchases, returns], ignore_index=True)
    orders = orders.sort_values(["order_date", "order_id", "product_id"], kind="stable", ignore_index=True)

    # -------------------------------------------------------------------- reviews
    p_review = np.array([_SPECS[p].p_review for p in names])[persona_idx]
    n_rev = np.where(rng.random(n) < p_review, 1 + np.minimum(rng.poisson(1.0, n), 4), 0)
    rev_cust = np.repeat(np.arange(n), n_rev)
    R = len(rev_cust)
    # Each review is about one of the customer's purchase lines.
    line_start = np.zeros(n + 1, dtype=np.int64)
    lines_per_cust = np.bincount(cust_of_order[order_of_line], minlength=n)
    line_start[1:] = np.cumsum(lines_per_cust)
    order_by_cust = np.argsort(cust_of_order[order_of_line], kind="stable")
    pick = line_start[rev_cust] + (rng.random(R) * lines_per_cust[rev_cust]).astype(np.int64)
    line = order_by_cust[pick]
    rev_day = np.minimum(line_day[line] + rng.integers(2, 21, size=R), end_day)
    rev_persona = persona_idx[rev_cust]
    rating_w = np.array([_SPECS[p].rating for p in names])
    rating_cum = np.cumsum(rating_w / rating_w.sum(1, keepdims=True), axis=1)[rev_persona]
    rating = 1 + (rng.random(R)[:, None] > rating_cum).sum(axis=1).clip(0, 4)
    texts = _review_texts(rng, rev_persona, products["product_name"].to_numpy()[product_idx[line]], names)
    reviews = pd.DataFrame(
        {
            "review_id": _ids("R", np.arange(1, R + 1), 8),
            "customer_id": cid[rev_cust],
            "product_id": pid[product_idx[line]],
            "review_date": pd.to_datetime(rev_day, unit="D"),
            "rating": rating.astype(float),
            "review_text": texts,
        }
    )

    tables = {"customers": customers, "orders": orders, "products": products, "reviews": reviews}
    for t, df in tables.items():
        cols = SCHEMAS[t].column_names + (["persona"] if t == "customers" else [])
        tables[t] = df[cols].reset_index(drop=True)
    return tables


def _review_texts(rng: np.random.Generator, persona: np.ndarray, product: np.ndarray, names: list[str]) -> list[str]:
    R = len(persona)
    banks = [_PHRASES[p] for p in names]
    a = rng.random(R)
    b = rng.random(R)
    c = rng.integers(0, len(_NEUTRAL), R)
    noise = rng.random(R) < 0.1  # one persona sentence swapped for a neutral one
    order = rng.integers(0, 3, R)
    out = []
    for i in range(R):
        bank = banks[persona[i]]
        s1 = bank[int(a[i] * len(bank))]
        s2 = bank[int(b[i] * len(bank))]
        if s2 == s1:
            s2 = bank[(int(b[i] * len(bank)) + 1) % len(bank)]
        n_ = _NEUTRAL[c[i]]
        if noise[i]:
            s2 = _NEUTRAL[(c[i] + 3) % len(_NEUTRAL)]
        parts = (s1, s2, n_) if order[i] == 0 else (n_, s1, s2) if order[i] == 1 else (s1, n_, s2)
        out.append(" ".join(parts).replace("{p}", str(product[i])))
    return out


def write_demo_files(tables: dict[str, pd.DataFrame], out_dir, fmt: str = "csv") -> dict[str, Path]:
    """Write each table to `out_dir/<table>.csv` (or .parquet) for trying the upload path."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in tables.items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        paths[name] = path
    return paths
