"""Live-like windows that end part-way into an action, for the optional `[augment] partial` training recipe.

Why: a clip-trained model sees every action whole, stretched or squeezed to its T frames. Live, the engine
classifies a fixed-duration window (`window_seconds` of the checkpoint) that slides into an action from a
pause: first a standing pose and a little motion, the whole action only once it is over. A model that has
only seen whole actions answers "no action" (or guesses) until most of the action is in the window, and that
wait is the detection delay a user feels. These windows show it what the live window holds early on.

A partial window is cut from one training clip: a fraction f of the action, drawn uniformly from
[`partial_min`, 1] (about 40 % by default: less than that is too little to name the action, and labelling it
would teach guessing), ends the window; the window is exactly the live window's length in frames. If the
visible part is shorter than that, the rest, in front, is the clip's own still prefix held with sensor-like
jitter (as `no_action` holds still stretches), standing in for the pause before an action; if longer, only
its last window-length frames are kept, as live. The window is then renormalised exactly as the live worker
normalises its window (`skeleton_norm.normalise_frames`: centred on its own first frame, scaled, turned), so
where the cut fell leaves no trace. Labels stay the clip's action. Still windows remain the no-action class's.
"""
from __future__ import annotations

import numpy as np

from kinact.core.skeleton_norm import NormRecipe, normalise_frames
from kinact.core.training.no_action import _hold, still_edges


def partial_window(x: np.ndarray, length: int, norm: NormRecipe, rng: np.random.Generator,
                   min_fraction: float = 0.4, still: int | None = None) -> np.ndarray:
    """(T, 20, 3) normalised clip → (length, 20, 3) window ending after a random fraction of it (see above).

    still: the clip's still-prefix length in frames (None: computed here with `no_action.still_edges`)."""
    x = np.asarray(x, np.float32)
    T, length = len(x), int(length)
    f = rng.uniform(min_fraction, 1.0)
    end = int(np.clip(round(f * T), min(T, 4), T))
    seen = x[:end]
    if end >= length:
        w = seen[end - length:]
    else:
        pre = still_edges(x)[0] if still is None else int(still)
        w = np.concatenate([_hold(x[:max(1, min(pre, end))], length - end, rng), seen])
    return np.ascontiguousarray(normalise_frames(w, norm), dtype=np.float32)
