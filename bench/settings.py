"""Settings for the ingestion benchmark only: the product's, with the peer endpoint's URLconf."""

from bizvalue.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
