"""`kinact info PATH`: a one-screen summary of a recording, a checkpoint, a dataset file or a dataset folder."""
from __future__ import annotations

from pathlib import Path


def add_arguments(p) -> None:
    p.add_argument("path", help=".kinrec/.mcap recording, .safetensors checkpoint, dataset file or dataset folder")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def run(args) -> int:
    from kinact.app.commands.common import print_json

    path = Path(args.path)
    if path.suffix in (".kinrec", ".mcap"):
        from kinact.core.recording.summary import format_recording_summary, summarize_recording

        d = summarize_recording(path)
        text = format_recording_summary
    elif path.suffix == ".safetensors":
        from kinact.core.checkpoint import format_meta, read_meta

        d = read_meta(path).__dict__
        text = format_meta
    else:
        from kinact.core.datasets.summary import format_summary, summarize

        d = summarize(path)
        text = format_summary
    if args.json:
        print_json(d)
    else:
        print(text(d))
    return 0
