from channels.auth import AuthMiddlewareStack
from django.urls import path

from helpdesk.web.origins import SameOriginValidator

from .consumers import AgentConsoleConsumer

# Agents are Django users: the session cookie of the console page signs the socket in. Browsers send
# that cookie to any page's websocket, so the Origin must be this site's, scheme, host and port alike
# (no cross-site hijacking).
websocket_urlpatterns = [
    path("ws/console/", SameOriginValidator(AuthMiddlewareStack(AgentConsoleConsumer.as_asgi()))),
]
