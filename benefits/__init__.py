"""benefits: the eligibility engine for 三门峡市's disability relief."""
import sys

if not (3, 11) <= sys.version_info[:2] < (3, 13):
    raise ImportError(
        "benefits supports Python 3.11 and 3.12 only: durable_rules 2.0.28 does not "
        f"import on {sys.version_info.major}.{sys.version_info.minor}")
