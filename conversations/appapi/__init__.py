"""The app channel: a REST API (rest, django-ninja) and a server-sent event stream (stream) for mobile apps and
other front ends, over the same services and events as the widget's websocket. README "App channel"."""
