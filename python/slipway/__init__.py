"""Slipway's Python SDK: deploy models (:class:`Deployment`), predict (:class:`Client`), manage (:class:`Admin`).

Settings not passed as arguments come from ``SLIPWAY_URL``, ``SLIPWAY_DEPLOY_KEY``, ``SLIPWAY_TOKEN`` and
``SLIPWAY_SERVING_KEY``.
"""

from .admin import Admin
from .client import Client
from .deployment import Deployment
from .errors import (
    AuthenticationError,
    ConfigurationError,
    Conflict,
    ConversionError,
    InvalidInput,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    SchemaViolation,
    ServerUnavailable,
    SlipwayError,
    VerificationFailed,
    VerificationTimeout,
)

__version__ = "0.1.0"

__all__ = [
    "Admin",
    "AuthenticationError",
    "Client",
    "ConfigurationError",
    "Conflict",
    "ConversionError",
    "Deployment",
    "InvalidInput",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "SchemaViolation",
    "ServerUnavailable",
    "SlipwayError",
    "VerificationFailed",
    "VerificationTimeout",
    "__version__",
]
