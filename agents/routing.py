from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from .consumers import AgentConsoleConsumer

# Agents are Django users: the session cookie of the console page signs the socket in. Browsers send
# that cookie to any page's websocket, so the Origin must be this site's (no cross-site hijacking).
websocket_urlpatterns = [
    path("ws/console/", AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsoleConsumer.as_asgi()))),
]
