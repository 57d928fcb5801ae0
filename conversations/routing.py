from typing import Any

from django.urls import re_path

from .appapi.stream import with_event_stream
from .consumers import CustomerChatConsumer

# Any token shape reaches the consumer, so a malformed one gets a clear 4404 instead of a bare HTTP 403.
websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<token>[^/]*)/$", CustomerChatConsumer.as_asgi()),
]


def http_routes(http_app: Any) -> Any:
    """The HTTP application with the app channel's event stream mounted beside it (conversations.appapi.stream)."""
    return with_event_stream(http_app)
