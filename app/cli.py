"""The `kinact` command: one entry point, one small module per subcommand under `app/commands/`.

Subcommand modules are imported only when chosen, so `kinact --help` and `kinact info` start without loading
torch or Qt. Every problem the user can fix (a bad file, a missing SDK) arrives here as a `KinactError` and
leaves as one line on stderr with exit code 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from kinact.core.errors import KinactError

#: subcommand -> (module under kinact.app.commands, one-line help). Order is the order `--help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "app": ("gui", "the desktop window (what a plain `kinact` opens): live view, predictions, record and replay"),
    "run": ("run", "run the recognizer on a sensor, recording or the synthetic performer (--headless for JSON lines)"),
    "info": ("info", "summarise a recording, a dataset file or a whole dataset folder"),
    "import": ("import_cmd", "convert a dataset file or an Azure Kinect MKV into a .kinrec recording"),
    "train": ("train", "train an experiment config (all its seeds) and write summary.json"),
    "eval": ("eval", "accuracy, per-class accuracy and confusion matrix of a checkpoint"),
    "ensemble": ("ensemble", "combine checkpoints of one recipe into one checkpoint that averages their scores"),
    "export": ("export", "export a checkpoint to ONNX, checked against onnxruntime"),
    "stream-eval": ("stream_eval", "stitch a dataset's test split into one stream and score events and delays"),
    "screenshot": ("screenshot", "render the app offscreen for a few seconds and save the window as a PNG"),
    "doctor": ("doctor", "check this machine's set-up (packages, GPU, Qt, sensors, assets) and say how to fix each problem"),
    "bench": ("bench", "benchmarks that print ratios against a reference measured in the same run"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kinact",
        description="Real-time human action recognition for depth sensors (skeleton + depth, TARM+CNN).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(f"kinact.app.commands.{module}").add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["app", *argv]  # plain `kinact [--source k4a ...]`: the app on a sensor, the demo or the performer
    parser = build_parser()
    args = parser.parse_args(argv)
    module = importlib.import_module(f"kinact.app.commands.{args._module}")
    try:
        return int(module.run(args) or 0)
    except KinactError as exc:
        print(f"kinact {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kinact {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
