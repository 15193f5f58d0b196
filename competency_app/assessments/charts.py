"""Self against validated levels, per element, as PNG or SVG (drawn through `charts.py`)."""

from __future__ import annotations

from competency_app.common.charts import figure_class, plain, save


def self_vs_validated(
    labels: list[str],
    self_levels: list[float | None],
    validated: list[float | None],
    max_level: int,
    title: str,
    fmt: str,
) -> bytes:
    """Grouped horizontal bars: mean self-rating and mean validated level per element."""
    figure = figure_class()(figsize=(8, 0.55 * len(labels) + 2.0), dpi=100)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    height = 0.38
    axes.barh(
        [p - height / 2 for p in positions],
        [v or 0 for v in self_levels],
        height,
        label="Self-rating (mean)",
        color="#41b6e6",
        edgecolor="#005eb8",
        hatch="//",
    )
    axes.barh(
        [p + height / 2 for p in positions],
        [v or 0 for v in validated],
        height,
        label="Validated (mean)",
        color="#005eb8",
    )
    axes.set_yticks(positions, [plain(label) for label in labels])
    axes.invert_yaxis()
    axes.set_xlim(0, max_level)
    axes.set_xticks(range(max_level + 1))
    axes.set_xlabel("Level")
    axes.set_title(plain(title))
    axes.grid(axis="x", alpha=0.3)
    axes.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.35 / max(1, len(labels) / 4)),
        ncol=2,
        fontsize="small",
        frameon=False,
    )
    figure.tight_layout()
    return save(figure, fmt)
