"""Chart.js configurations built on the server: plain data that the page's script hands to Chart.js."""

from typing import Any


def chart(
    kind: str,
    *,
    labels: list[str],
    datasets: list[dict[str, Any]],
    options: dict[str, Any] | None = None,
    point_names: list[list[str]] | None = None,
) -> dict[str, Any]:
    """A Chart.js config for `json_script`; `point_names` label each scatter point in its tooltip."""
    config: dict[str, Any] = {
        "type": kind,
        "data": {"labels": labels, "datasets": datasets},
        "options": {"responsive": True, **(options or {})},
    }
    if point_names is not None:
        config["pointNames"] = point_names
    return config
