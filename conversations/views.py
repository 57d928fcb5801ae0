from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def demo_shop(request: HttpRequest) -> HttpResponse:
    """A fictional shop that embeds the widget with the one tag our users paste into their sites."""
    helpdesk_url = request.build_absolute_uri("/").rstrip("/")
    return render(request, "conversations/demo_shop.html", {"helpdesk_url": helpdesk_url})
