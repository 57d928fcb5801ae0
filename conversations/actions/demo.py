"""The demo shop's order look-up as an action (`manage.py load_demo_action`, run by `make run`): it calls the
demo page's own order API (conversations.views.demo_orders) for the signed-in demo customer."""

from __future__ import annotations

from django.conf import settings

from ..models import Action

DEMO_ACTION_NAME = "order_lookup"
DEMO_SOURCE_TITLE = "Your orders · 您的订单"
DEMO_RESULT_TEMPLATE = (
    "{% for o in orders %}Order #{{ o.number }} ({{ o.items }}, {{ o.total }}) is {{ o.status }}: sent on "
    "{{ o.shipped_on }} by {{ o.carrier }}, tracking number {{ o.tracking }}, expected on {{ o.expected_on }}.\n"
    "订单 #{{ o.number }}（{{ o.items }}，{{ o.total }}）{{ o.status_zh }}：{{ o.shipped_on }} 由{{ o.carrier_zh }}"
    "发出，运单号 {{ o.tracking }}，预计 {{ o.expected_on }} 送达。\n"
    "{% empty %}This customer has no orders. 这位客户没有订单。{% endfor %}"
)


def demo_action_ensure(*, base_url: str) -> Action:
    """Create the demo's order look-up, or point it at `base_url` (the address `make run` serves on)."""
    action, _ = Action.objects.update_or_create(
        name=DEMO_ACTION_NAME,
        defaults={
            "description": "Look up the signed-in customer's orders in the shop: status, carrier, tracking number "
                           "and expected delivery date. Use it when the customer asks where their order is.",
            "source_title": DEMO_SOURCE_TITLE,
            "parameters": {"type": "object", "properties": {"order_number": {
                "type": "string", "description": "the order number the customer gave, if any", "maxLength": 32}},
                "required": []},
            "intents": ["order_status"],
            "method": Action.Method.GET,
            "base_url": base_url.rstrip("/"),
            "path_template": "/demo/api/orders?customer={customer_id}&order={order_number}",
            "headers": f"X-Demo-Key: {settings.DEMO_ORDERS_KEY}",
            "timeout_s": 5.0,
            "requires_verified_identity": True,
            "read_only": True,
            "result_format": Action.ResultFormat.TEMPLATE,
            "result_template": DEMO_RESULT_TEMPLATE,
        },
    )
    return action
