from django.urls import path

from . import api, views
from .appapi.rest import api as app_api

urlpatterns = [
    path("api/v1/widget", api.widget_config, name="api-widget-config"),
    path("api/v1/conversations", api.conversation_create, name="api-conversation-create"),
    path("api/v1/conversations/transcript", api.conversation_transcript, name="api-conversation-transcript"),
    # The link in an agent's emailed reply (conversations.mail.compose): signed, expiring, read-only.
    path("conversations/transcript/<str:signed>", api.conversation_transcript_link,
         name="conversation-transcript-link"),
    # The app channel's REST API, its OpenAPI schema (/api/v1/schema) and documentation page (/api/v1/docs).
    path("api/v1/", app_api.urls),
    path("", views.demo_shop, name="demo-shop"),
    path("demo/api/orders", views.demo_orders, name="demo-orders"),
]
