"""The address a request came from, for every limit counted by address.

X-Forwarded-For is anyone's to write: it is read only when the request came from a proxy listed in
CATALOG_TRUSTED_PROXIES, and then from its end, each trusted proxy stepped over, so that the
address returned is the one the nearest untrusted hop was seen at. (Read from its start, a forged
header would name any address its sender liked.)
"""

import ipaddress

from django.conf import settings


def client_address(request):
    address = request.META.get("REMOTE_ADDR", "")
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    while _trusted(address) and forwarded:
        address = forwarded.pop()
    return address


def _trusted(address):
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in settings.CATALOG_TRUSTED_PROXIES)
