"""API authentication by per-seller token, and throttling per seller."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, throttling

from .client_address import client_address
from .models import ApiToken, hash_token_key

# last_used is written at most this often per token, not on every request.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, with keys from the seller's API tokens page."""

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_token_key(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        _touch(token)
        return token.user, token


def _touch(token):
    now = timezone.now()
    if token.last_used is None or (now - token.last_used).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>`, a key from the seller's API tokens page"}


class AddressThrottle(throttling.SimpleRateThrottle):
    """A throttle that knows a request's address as every limit does (catalog.client_address):
    DRF's own believes any X-Forwarded-For."""

    def get_ident(self, request):
        return client_address(request)


class PerSellerThrottle(AddressThrottle):
    """Each seller has one budget of requests, shared by all their tokens and their browser session
    (more tokens are not more requests); anonymous requests to what takes them (the schema and its
    docs) are counted per address. A request with a missing or wrong token is refused (401) before
    any throttle runs (DRF authenticates first), so it is not counted: it costs one indexed lookup of
    the token's hash, and 256-bit keys are not guessed."""

    scope = "seller"

    def get_rate(self):
        return settings.CATALOG_API_RATE

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            identity = f"user-{request.user.pk}"
        else:
            identity = f"anonymous-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": identity}


class SignupThrottle(AddressThrottle):
    """Sign-ups per address (CATALOG_SIGNUP_RATE), for the web form."""

    scope = "signup"

    def get_rate(self):
        return settings.CATALOG_SIGNUP_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
