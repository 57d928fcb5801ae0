import hmac
import time
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .services.identity import identity_hash

DEMO_CUSTOMER_NAME = "Lin Wei"
DEMO_KEY_HEADER = "X-Demo-Key"


def demo_shop(request: HttpRequest) -> HttpResponse:
    """A fictional shop that embeds the widget with the one tag our users paste into their sites, and signs in
    its demo customer (DEMO_CUSTOMER_ID) the way a real shop signs its users in, so the bot can look up their
    orders (conversations.actions)."""
    helpdesk_url = request.build_absolute_uri("/").rstrip("/")
    user = None
    if settings.DEMO_CUSTOMER_ID and settings.WIDGET_IDENTITY_SECRET:
        ts = int(time.time())
        user = {"id": settings.DEMO_CUSTOMER_ID, "name": DEMO_CUSTOMER_NAME, "ts": ts,
                "hash": identity_hash(user_id=settings.DEMO_CUSTOMER_ID, name=DEMO_CUSTOMER_NAME, ts=ts)}
    return render(request, "conversations/demo_shop.html", {"helpdesk_url": helpdesk_url, "demo_user": user})


def demo_orders_of(customer_id: str) -> list[dict]:
    """The demo customer's orders, dated from today so the demo always reads fresh; nobody else has any."""
    if not customer_id or customer_id != settings.DEMO_CUSTOMER_ID:
        return []
    today = timezone.localdate()
    return [
        {"number": "10234", "items": "West Lake Longjing 西湖龙井 ×2", "total": "¥336", "status": "shipped",
         "status_zh": "已发货", "carrier": "SF Express", "carrier_zh": "顺丰速运", "tracking": "SF1400238855",
         "shipped_on": str(today - timedelta(days=1)), "expected_on": str(today + timedelta(days=1))},
        {"number": "10187", "items": "Porcelain gaiwan 白瓷盖碗 ×1", "total": "¥128", "status": "delivered",
         "status_zh": "已签收", "carrier": "SF Express", "carrier_zh": "顺丰速运", "tracking": "SF1400197342",
         "shipped_on": str(today - timedelta(days=12)), "expected_on": str(today - timedelta(days=10))},
    ]


@require_GET
def demo_orders(request: HttpRequest) -> JsonResponse:
    """The demo shop's own order API, which the demo action calls: `?customer=<id>[&order=<number>]`, with the
    shop's key in X-Demo-Key (DEMO_ORDERS_KEY). A real shop's API is its own; this one only shows the shape."""
    given = request.headers.get(DEMO_KEY_HEADER, "")
    if not given.isascii() or not hmac.compare_digest(given, settings.DEMO_ORDERS_KEY):
        return JsonResponse({"error": "unknown or missing key"}, status=401)
    customer = request.GET.get("customer", "")
    orders = demo_orders_of(customer)
    number = request.GET.get("order", "").strip().lstrip("#")
    if number:
        orders = [order for order in orders if order["number"] == number]
    return JsonResponse({"customer": customer, "orders": orders})
