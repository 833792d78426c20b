"""Evaluating a checkpoint on a folder of your own labelled recordings: `kinact eval CKPT --data DIR_OF_KINREC`.

The loop "record, label, train, use" needs a way to ask "how well does this model do on these recordings?"
for any model: the shipped one before fine-tuning, a fine-tuned one on new sessions, a colleague's. Dataset
folders carry a subject split in the checkpoint; a recordings folder does not, so every labelled segment in
the folder counts (to score only held-out sessions, put them in a folder of their own). Segments whose action
the checkpoint does not know cannot be right or wrong: they are counted and named, not scored. The segments
go through the same reading and normalisation as fine-tuning (kinrec_data), so the numbers are the ones
`kinact train --data DIR` reports for its held-out part.
"""
from __future__ import annotations

import numpy as np
import torch

from kinact.core.checkpoint import build_model, load_checkpoint
from kinact.core.errors import KinactError
from kinact.core.skeleton_norm import NormRecipe


def evaluate_recordings(ckpt_path, root, device=None) -> dict:
    """Accuracy, per-class accuracy and confusion of a skeleton checkpoint over every labelled segment in `root`."""
    from kinact.core.training.data import ActionDataset, ItemRecipe
    from kinact.core.training.evaluate import modality_of, predict, summarise
    from kinact.core.training.kinrec_data import load_recordings

    state, meta = load_checkpoint(ckpt_path)
    model = build_model(meta, state, ckpt_path)
    model.to(torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")))
    modality = modality_of(model)
    if modality != "skeleton":
        raise KinactError(f"{ckpt_path}: a {modality} model; recordings are scored with skeleton models only")
    data = load_recordings(root, NormRecipe.from_dict(meta.norm))
    classes = list(meta.classes)
    known = [i for i, c in enumerate(data.clips) if c.action in classes]
    unknown = sorted({c.action for c in data.clips if c.action not in classes})
    if not known:
        raise KinactError(f"{root}: none of the labelled segments' actions ({', '.join(unknown) or 'none'}) is "
                          f"one of the checkpoint's {len(classes)} classes")
    seqs = data.sequence_set(known, classes)
    ds = ActionDataset(seqs, ItemRecipe(modality="skeleton", features=list(meta.features), frames=int(meta.frames)))
    probs = torch.softmax(predict(model, ds, "skeleton"), dim=1)
    out = summarise(probs, seqs.labels, classes)
    out["per_class"] = {c: a for c, a in out["per_class"].items() if a is not None}
    out.update(dataset="kinrec", split="all", modality="skeleton", subjects=[],
               recordings=len(data.recordings), unknown_actions=unknown,
               n_unknown=int(sum(c.action in unknown for c in data.clips)),
               unreadable=list(data.unreadable), checkpoint=str(ckpt_path),
               per_segment=[{"key": k, "action": classes[int(y)], "predicted": classes[int(p)]}
                            for k, y, p in zip(seqs.keys, seqs.labels, np.asarray(probs.argmax(1)))])
    return out
