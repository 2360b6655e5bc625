"""Settings of the API benchmark: the project's own, plus bare Django views to compare the API with."""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

ROOT_URLCONF = "bench.api_bench_urls"
# The throttles still run (their cost is the API's), at rates the benchmark's bursts stay under.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}),
        "api_key": "1000000/minute",
        "api_user": "1000000/minute",
    },
}
