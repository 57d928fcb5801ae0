from django.urls import re_path

from .consumers import CustomerChatConsumer

# Any token shape reaches the consumer, so a malformed one gets a clear 4404 instead of a bare HTTP 403.
websocket_urlpatterns = [
    re_path(r"^ws/chat/(?P<token>[^/]*)/$", CustomerChatConsumer.as_asgi()),
]
