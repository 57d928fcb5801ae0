#!/usr/bin/env python
"""What checking a reply's numbers and identifiers costs: conversations.verification per reply, in this process.

Replies of a few sentences (English and Chinese, some with a changed number or an invented phone number) are
checked against four sources of about 600 characters each and a customer's question, as the pipeline checks
every generated reply; the median and 95th percentile per reply are printed, with how many replies were flagged.

    .venv/bin/python bench/verification.py               # about 2 seconds
    .venv/bin/python bench/verification.py --seconds 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

SOURCES = [
    "Orders over ¥199 ship free. Smaller orders pay a flat ¥12 standard shipping fee. Parcels are dispatched "
    "within 24 hours on working days and arrive in 2-4 days by SF Express courier. Remote regions add 1-2 days. "
    "Track your parcel at https://shop.example/track with the order number, e.g. SN-2024-001. " * 2,
    "You can send back unopened tea within 30 days of delivery for a refund. Refunds reach your original payment "
    "method within 3-5 working days after we receive the parcel. Call 400-820-8820 (9:00-18:00) or write to "
    "help@shop.example. " * 2,
    "退货期限：收到商品后三十天内可以申请退货，茶叶需未拆封。退款时间：我们收到退货后，三到五个工作日内把钱退回原支付账户。"
    "客服热线 021-6888 1234，工作时间上午9点到下午6点。会员享受95折优惠，满299元再减20元。" * 2,
    "The X200 kettle costs 1,299元 and holds 1.5 L; the X300 model costs ¥1,599. Both carry a 2-year warranty. "
    "The summer sale runs until 2024-08-31 with 15% off every teapot. " * 2,
]
QUESTION = "My order SN-2024-117 has not arrived after 5 days, can I get a refund?"
REPLIES = [
    "Orders over ¥199 ship free [1]; parcels arrive in 2-4 days [1]. Track it at https://shop.example/track [1].",
    "Refunds reach your payment method within 3 to 5 working days [2]; call 400 820 8820 between 9am and 6pm.",
    "我们收到退货后，3-5个工作日内退款【3】。客服热线 021-6888 1234，上午9点到下午6点。",
    "The X200 costs RMB 1299 and the X300 ¥1,599 [4]; 15% off until August 31, 2024 [4].",
    "Your order SN-2024-117 should arrive within 2-4 days [1]; otherwise you can return it within 30 days [2].",
    "Orders over ¥299 ship free [1]; call 400-820-8821 for help.",  # changed: flagged
    "退款会在7个工作日内到账，请拨打 138 0013 8000 咨询【3】。",  # invented: flagged
]
WRONG = 2  # the last two replies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to keep checking replies")
    args = parser.parse_args()
    import django

    django.setup()
    from conversations.verification import unsupported_facts

    timings: list[float] = []
    flagged = 0
    deadline = time.perf_counter() + args.seconds
    while time.perf_counter() < deadline:
        for reply in REPLIES:
            started = time.perf_counter()
            found = unsupported_facts(reply, [*SOURCES, QUESTION])
            timings.append((time.perf_counter() - started) * 1000)
            flagged += bool(found)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"verification: {len(timings)} replies checked against {len(SOURCES)} sources "
          f"({sum(map(len, SOURCES))} characters) and the question")
    print(f"  per reply: median {statistics.median(timings):.3f} ms, p95 {p95:.3f} ms, max {timings[-1]:.3f} ms")
    print(f"  flagged: {flagged / len(timings):.0%} of replies ({WRONG} of {len(REPLIES)} are wrong)")


if __name__ == "__main__":
    main()
