"""`kinact import SRC --out FILE.kinrec`: a dataset file or an Azure Kinect MKV becomes a replayable recording."""
from __future__ import annotations


def add_arguments(p) -> None:
    p.add_argument("src", help="UTD-MHAD .mat (skeleton or depth; its partner is found next to it), MSR Action3D "
                               "_skeleton3D.txt, NTU .skeleton, Azure Kinect .mkv or body-tracking .json")
    p.add_argument("--out", required=True, help="output .kinrec (or .mcap) file; written atomically")
    p.add_argument("--bodies", metavar="JSON", help="Azure Kinect offline_processor body-tracking JSON for an .mkv")
    p.add_argument("--no-depth", action="store_true", help="leave depth out (skeleton-only recording)")
    p.add_argument("--json", action="store_true", help="print one JSON object with what was written")


def run(args) -> int:
    from kinact.app.commands.common import print_json
    from kinact.core.recording.importers import import_file

    report = import_file(args.src, args.out, body_json=args.bodies, with_depth=not args.no_depth)
    if args.json:
        print_json(report)
    else:
        extra = f", {report['frames_with_bodies']} with bodies" if "frames_with_bodies" in report else ""
        print(f"wrote {report['out']}: {report['frames']} frames{extra}, depth {'yes' if report['depth'] else 'no'}")
    return 0
