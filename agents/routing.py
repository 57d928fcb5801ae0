from channels.auth import AuthMiddlewareStack
from django.urls import path

from .consumers import AgentConsoleConsumer

# Agents are Django users: the session cookie of the console page signs the socket in.
websocket_urlpatterns = [
    path("ws/console/", AuthMiddlewareStack(AgentConsoleConsumer.as_asgi())),
]
