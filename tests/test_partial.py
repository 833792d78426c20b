"""The optional partial-action training windows: live-length cuts ending part-way into an action."""
import numpy as np
import pytest
import torch

from _training_data import tiny_config, write_fake_utd
from kinact.core.skeleton_norm import NormRecipe, normalise_frames
from kinact.core.training.augment import AugmentRecipe
from kinact.core.training.config import config_from_dict
from kinact.core.training.data import ActionDataset, ItemRecipe, load_sequences
from kinact.core.training.partial import partial_window


def _clip(still=10, move=40):
    """A standing pose, then the right hand (canonical 11) sweeping up: (still + move, 20, 3), normalised."""
    from kinact.core.pipeline.fakes import pose

    x = np.repeat(pose()[None], still + move, 0)
    x[still:, 11, 1] += np.linspace(0.0, 0.8, move)
    return normalise_frames(x, NormRecipe())


def test_a_short_cut_is_padded_in_front_with_the_held_still_pose():
    x, norm = _clip(), NormRecipe()
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = partial_window(x, 68, norm, rng, min_fraction=0.4, still=10)
        assert w.shape == (68, 20, 3) and np.isfinite(w).all()
        # the hand's rise is at the end of the window, the front is the still pose (jitter only)
        rise = w[:, 11, 1] - w[:, 0, 1]
        assert rise[-1] - rise[0] > 0.1
        assert np.abs(np.diff(w[:30, 11, 1])).max() < 0.05
    # the visible fraction is never below min_fraction: with min 1.0 the window ends on the last frame
    full = partial_window(x, 68, norm, rng, min_fraction=1.0, still=10)
    assert (full[-1, 11, 1] - full[-1, 0, 1]) == pytest.approx(x[-1, 11, 1] - x[-1, 0, 1], abs=0.02)


def test_a_long_visible_part_keeps_only_the_last_window_frames():
    x = _clip(still=5, move=100)
    w = partial_window(x, 30, NormRecipe(), np.random.default_rng(1), min_fraction=1.0, still=5)
    assert w.shape == (30, 20, 3)
    assert w[0, 0] == pytest.approx(np.zeros(3), abs=1e-5)  # renormalised on the window's own first frame


def test_dataset_uses_partial_windows_only_when_asked(tmp_path):
    data = write_fake_utd(tmp_path, classes=3, subjects=(1,), trials=(1,))
    cfg = config_from_dict(tiny_config(**{"augment.partial": 1.0, "augment.partial_min": 0.5}))
    assert cfg.augment.partial == 1.0 and cfg.augment.to_dict()["partial_min"] == 0.5
    seqs = load_sequences("utd_mhad", data, [1], cfg.input.norm())
    on = ActionDataset(seqs, ItemRecipe(features=cfg.input.features, frames=16, augment=cfg.augment,
                                        window_frames=40, norm=cfg.input.norm()), train=True, seed=0)
    off = ActionDataset(seqs, ItemRecipe(features=cfg.input.features, frames=16, augment=cfg.augment), train=True)
    a, b = on[0]["skeleton"], off[0]["skeleton"]
    assert a.shape == b.shape and not torch.equal(a, b) and int(on[0]["label"]) == int(seqs.labels[0])
    assert torch.equal(a, on[0]["skeleton"])  # drawn from (seed, epoch, index): repeatable
    plain = config_from_dict(tiny_config())
    assert "partial" not in plain.augment.to_dict()  # off: configs and fingerprints as before the option
    assert config_from_dict(tiny_config(**{"augment.partial": 0.0})).fingerprint() == plain.fingerprint()
    with pytest.raises(ValueError):
        AugmentRecipe(partial=1.5)
