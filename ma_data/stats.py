"""``ma-data stats``: hours and clips per genre, subset and split, as a table and a PNG chart."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ma_data.manifest import read_manifest

__all__ = ["DatasetStats", "dataset_stats", "format_stats", "plot_stats"]


@dataclass
class DatasetStats:
    n_clips: int
    hours: float
    n_failed: int
    by_genre: object  # pandas DataFrame: index genre, columns clips, hours
    by_subset: object
    by_split: object
    by_subset_split: object


def _agg(df, keys):
    g = df.groupby(keys, dropna=False)["duration_s"]
    out = g.agg(["count", "sum"]).rename(columns={"count": "clips", "sum": "hours"})
    out["hours"] = out["hours"] / 3600.0
    return out.sort_index()


def dataset_stats(root: str | os.PathLike) -> DatasetStats:
    df = read_manifest(root)
    ok = df[df["status"] == "ok"].copy()
    ok["genre"] = ok["genre"].fillna("unknown")
    return DatasetStats(
        n_clips=len(ok),
        hours=float(ok["duration_s"].sum() / 3600.0),
        n_failed=int((df["status"] != "ok").sum()),
        by_genre=_agg(ok, "genre"),
        by_subset=_agg(ok, "subset"),
        by_split=_agg(ok, "split"),
        by_subset_split=_agg(ok, ["subset", "split"]),
    )


def format_stats(st: DatasetStats) -> str:
    parts = [f"{st.n_clips} clips, {st.hours:.3f} h ({st.n_failed} failed)"]
    for title, table in (("genre", st.by_genre), ("subset", st.by_subset), ("split", st.by_split),
                         ("subset/split", st.by_subset_split)):  # fmt: skip
        parts.append(f"\nby {title}:\n{table.to_string(float_format=lambda v: f'{v:.4f}')}")
    return "\n".join(parts)


def plot_stats(st: DatasetStats, path: str | os.PathLike) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ma_data.core.io.atomic import atomic_path

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (title, table) in zip(axes, (("genre", st.by_genre), ("subset", st.by_subset),
                                          ("split", st.by_split)), strict=True):  # fmt: skip
        labels = [str(i) for i in table.index]
        bars = ax.bar(labels, table["hours"].to_numpy(), color="#4c72b0")
        for b, c in zip(bars, table["clips"].to_numpy(), strict=True):
            ax.annotate(f"{c}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom",
                        fontsize=8)  # fmt: skip
        ax.set_title(f"hours per {title} (labels: clips)")
        ax.set_ylabel("hours")
        ax.tick_params(axis="x", rotation=45)
    fig.suptitle(f"MA-Data: {st.n_clips} clips, {st.hours:.2f} h")
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
    return path
