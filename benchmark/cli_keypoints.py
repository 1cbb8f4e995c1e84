"""``mace-bench keypoints``: extract one dancer's 2D keypoints from a folder of videos.

Writes the official MACE-Dance JSON layout by default, so our extraction can feed the official
``calculate_metric.py`` (and ``mace-bench evaluate --gt-keypoints/--pred-keypoints``) directly.
"""

from __future__ import annotations

from pathlib import Path

import click

from benchmark.cli_options import pose_executor_options, pose_options, pose_speed_kwargs, pose_speed_options
from ma_data.core.cli import check_outputs, command
from ma_data.core.errors import MaceError


@command("keypoints")
@click.option(
    "--videos",
    "video_dir",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of videos (.mp4 .mov .mkv .webm .avi .m4v); one track per file stem.",
)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder.")
@pose_options(auto_detector="yolov8s when its weights are cached, else rtdetr.")
@click.option(
    "--invisible-joints",
    type=click.Choice(["easy_vitpose", "missing"]),
    default="easy_vitpose",
    show_default=True,
    help="--pose vitpose: joints whose heatmap is <= 0 decoded as easy_ViTPose does (official: near the crop's "
    "top-left corner) or marked missing (confidence 0).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "npz"]),
    default="json",
    show_default=True,
    help='json = official MACE-Dance layout {"keypoints": [[[y, x, conf] x 25] per frame]}; '
    "npz = our compact track (x, y, conf) with detection mask and provenance.",
)
@click.option(
    "--no-cache", is_flag=True, help="Re-extract even when a cached track exists (default: use the cache)."
)
@pose_speed_options
@pose_executor_options
def keypoints(
    video_dir: Path,
    out_dir: Path,
    pose: str,
    detector: str,
    invisible_joints: str,
    fmt: str,
    no_cache: bool,
    batch_size: int | None,
    pose_dtype: str | None,
    executor: str,
    workers: int | None,
    address: str | None,
) -> None:
    """Extract ViTPose-25 keypoint tracks from every video in --videos into --out.

    A video that cannot be processed is reported and skipped; the exit code is 2 only when none could be.
    With --executor process|ray the videos are spread over workers (one per GPU for vitpose, one per core for
    mediapipe); the tracks are the serial run's.
    """
    from benchmark.inputs import VIDEO_SUFFIXES, list_by_stem
    from ma_data.core.formats.keypoints import save_npz, write_official_json
    from ma_data.core.pose.extract import extract_tracks

    check_outputs(folders={"--out": out_dir})
    unusable: dict[str, str] = {}
    videos = list_by_stem(video_dir, VIDEO_SUFFIXES, "video", problems=unusable)
    if not videos:
        found = f"; unusable: {'; '.join(list(unusable.values())[:2])}" if unusable else ""
        raise MaceError(f"{video_dir}: no videos found ({' '.join(VIDEO_SUFFIXES)}){found}")
    kwargs = {}
    if pose == "vitpose":
        from ma_data.core.pose.detector import pick_detector

        kwargs = {"detector_name": pick_detector(detector), "invisible_joints": invisible_joints}
        kwargs.update(pose_speed_kwargs(pose, batch_size, pose_dtype))
    elif detector != "auto" or invisible_joints != "easy_vitpose":
        raise MaceError("--detector and --invisible-joints apply to --pose vitpose")
    else:
        pose_speed_kwargs(pose, batch_size, pose_dtype)  # refuses them for other backends
    tracks, errors = extract_tracks(
        videos,
        pose,
        cache=not no_cache,
        progress=True,
        backend_kwargs=kwargs,
        executor=executor,
        workers=workers,
        address=address,
    )
    errors = {**unusable, **errors}
    if tracks:  # a failed run leaves no empty output folder behind
        out_dir.mkdir(parents=True, exist_ok=True)
    for stem, track in tracks.items():
        if fmt == "json":
            write_official_json(out_dir / f"{stem}.json", track)
        else:
            save_npz(out_dir / f"{stem}.npz", track)
        if track.meta.get("warning"):
            click.echo(f"warning: {stem}: {track.meta['warning']}", err=True)
    for stem, err in sorted(errors.items()):
        click.echo(f"skipped {stem}: {err}", err=True)
    if not tracks:
        raise MaceError(f"no keypoints extracted from {video_dir}: all {len(errors)} videos failed")
    click.echo(f"wrote {len(tracks)} {fmt} tracks to {out_dir} (pose {pose}); {len(errors)} skipped")
