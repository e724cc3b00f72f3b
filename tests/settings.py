"""The test suite's settings: the development defaults, set explicitly.

Production is what config.settings gives without environment (DEBUG off, which refuses to start without a
real secret key). The suite runs the development configuration on purpose — sandbox payments enabled,
no HTTPS redirect, webhooks to localhost allowed — and says so here rather than relying on a default.
Tests of the production configuration start subprocesses with a production environment
(tests/deploy/).
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from config.settings import *  # noqa: E402, F403
