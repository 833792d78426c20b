"""Figures for reports: a confusion matrix readable at 27 classes and per-epoch learning curves.

matplotlib is an optional dependency (`kinact[plots]`) and slow to import, so it is imported inside each
function, with the Agg backend: these run on headless training machines and in tests.
"""
from __future__ import annotations

import os

import numpy as np

from kinact.core.errors import KinactError


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise KinactError("plots need matplotlib (pip install 'kinact[plots]')") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".partial.png"
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)


def plot_confusion(cm, class_names, path, title: str | None = None) -> None:
    """Rows = true class, columns = predicted; colour is the row-normalised rate, numbers are counts.

    Row normalisation keeps classes with fewer test samples as visible as the others; the counts stay
    printed (small font, zeros omitted) so a reader can still see how many samples a cell means.
    """
    plt = _pyplot()
    cm = np.asarray(cm, dtype=np.int64)
    k = len(class_names)
    if cm.shape != (k, k):
        raise KinactError(f"confusion matrix is {cm.shape}, expected {k}×{k} for {k} class names")
    rate = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    size = max(6.0, min(14.0, 0.42 * k + 2))
    fig, ax = plt.subplots(figsize=(size * 1.2, size))
    im = ax.imshow(rate, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.02, label="fraction of the true class")
    font = 7 if k > 15 else 9
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xticklabels(class_names, rotation=60, ha="right", rotation_mode="anchor", fontsize=font)
    ax.set_yticklabels(class_names, fontsize=font)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=font - 1,
                        color="white" if rate[i, j] > 0.5 else "black")
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(title or f"accuracy {acc:.1%} (n = {cm.sum()})")
    _save(fig, path)
    plt.close(fig)


def plot_curves(history, path, title: str | None = None) -> None:
    """Loss and accuracy per epoch for train / val / test (val and test only where recorded)."""
    plt = _pyplot()
    if isinstance(history, dict):
        history = history.get("history", [])
    if not history:
        raise KinactError("no epochs in the training history")
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for split, style in (("train", "-"), ("val", "--"), ("test", ":")):
        for ax, metric in ((ax_loss, "loss"), (ax_acc, "acc")):
            ys = [h.get(f"{split}_{metric}") for h in history]
            if any(y is not None for y in ys):
                ax.plot(epochs, [np.nan if y is None else y for y in ys], style, label=split, marker="." if
                        len(epochs) < 30 else None)
    ax_loss.set_ylabel("cross-entropy")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1)
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    _save(fig, path)
    plt.close(fig)
