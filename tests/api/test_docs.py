"""The curl examples of docs/api.md run, in order, against a live server with an agency's key."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.utils import timezone

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
# ```bash blocks are the runnable examples; ```console blocks show server-side commands and output.
EXAMPLE = re.compile(r"```bash\n(.*?)```", re.DOTALL)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_curl_examples_of_the_docs_run(full_world, live_server):
    # given every example of the docs as one script
    script = "\n".join(EXAMPLE.findall(DOCS.read_text(encoding="utf-8")))
    env = {**os.environ, "API": f"{live_server.url}/api/v1", "KEY": full_world.keys["agency"]}
    # when
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    # then every example succeeded, and the ones that show an error got the status the docs say
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for status in ("401", "409", "412", "400"):
        # curl prints the JSON bodies without a final newline, so a status may follow one on its line
        assert re.search(rf"(^|\D){status}$", result.stdout, re.MULTILINE), status
    today = timezone.localdate().isoformat()
    assert f'"registered_on":"{today}"' in result.stdout
    assert '"area_max_m2":["the largest area, 100.00 m², is below the smallest, 500.00 m²"]' in result.stdout
