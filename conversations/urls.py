from django.urls import path

from . import api, views

urlpatterns = [
    path("api/v1/widget", api.widget_config, name="api-widget-config"),
    path("api/v1/conversations", api.conversation_create, name="api-conversation-create"),
    path("api/v1/conversations/transcript", api.conversation_transcript, name="api-conversation-transcript"),
    # The link in an agent's emailed reply (conversations.mail.compose): signed, expiring, read-only.
    path("conversations/transcript/<str:signed>", api.conversation_transcript_link,
         name="conversation-transcript-link"),
    path("", views.demo_shop, name="demo-shop"),
    path("demo/api/orders", views.demo_orders, name="demo-orders"),
]
