"""Hypothesis settings for the fuzz targets: a short run in `make test`, a long
one in `make fuzz` (SEQTOOL_FUZZ_EXAMPLES=10000)."""

import os

from hypothesis import HealthCheck, settings

FUZZ_EXAMPLES = int(os.environ.get("SEQTOOL_FUZZ_EXAMPLES", "100"))
fuzz_settings = settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))
