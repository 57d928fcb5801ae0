"""Apps: the mobile apps and other front ends that talk to the helpdesk over the HTTP API (conversations.appapi)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from limits import parse


def rate_limit_validate(value: str) -> None:
    """A `limits` rate string, as the other rate settings (helpdesk.web.ratelimits)."""
    try:
        parse(value)
    except ValueError:
        raise ValidationError(_('Write a rate as "600/minute" or "20 per 10 seconds".')) from None


class App(models.Model):
    """One client of the app API, known by its key.

    Only the key's SHA-256 is stored: the key is 256 random bits, so a plain digest cannot be guessed back, and
    unlike a keyed hash it survives a rotation of LOOKUP_HASH_KEY. The key is shown once, when the app is made.
    """

    name = models.SlugField(_("name"), max_length=50, unique=True,
                            help_text=_("Conversations from this app are marked with the channel app:<name>."))
    key_prefix = models.CharField(_("key prefix"), max_length=12, editable=False,
                                  help_text=_("The key's first characters, to tell keys apart."))
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    allowed_origins = models.TextField(
        _("allowed origins"), blank=True,
        help_text=_("One origin a line (https://app.example.com) for web front ends; requests that send another "
                    "Origin are refused. Empty: requests with an Origin header are refused (mobile apps send none)."),
    )
    rate_limit = models.CharField(
        _("rate limit"), max_length=64, default="600/minute", validators=[rate_limit_validate],
        help_text=_('Requests per window for the whole app, as "600/minute" or "20 per 10 seconds".'),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("app")
        verbose_name_plural = _("apps")

    def __str__(self) -> str:
        return self.name

    @property
    def channel(self) -> str:
        return f"app:{self.name}"

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]
