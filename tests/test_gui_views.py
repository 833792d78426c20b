"""The desktop view widgets, built offscreen: projection, pooling, rows, timeline, banner, and a screenshot."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")
pytest.importorskip("pytestqt")

from PySide6 import QtWidgets  # noqa: E402

from kinact.app.gui import colors  # noqa: E402
from kinact.app.gui.depth_view import DepthView, layout_points_to_canonical_axes  # noqa: E402
from kinact.app.gui.prediction_panel import NO_ACTION, NOT_CLASSIFIABLE, PredictionPanel  # noqa: E402
from kinact.app.gui.side_views import SideViews  # noqa: E402
from kinact.app.gui.status_bar import StatusPanel  # noqa: E402
from kinact.core.frames import Body, Frame  # noqa: E402
from kinact.core.layouts import AZURE_KINECT, KINECT_V2, from_canonical_axes  # noqa: E402
from kinact.core.pipeline.events import ActionEvent  # noqa: E402
from kinact.core.pipeline.worker import Prediction  # noqa: E402
from kinact.core.recording.intrinsics import AZURE_NFOV_UNBINNED, KINECT_V2_DEPTH  # noqa: E402

# A standing person in canonical metres (Kinect v2 joint names), facing the sensor: left side at smaller x.
_POSE = {
    "spine_base": (0, 0, 0), "spine_mid": (0, .28, 0), "neck": (0, .55, 0), "head": (0, .70, 0),
    "spine_shoulder": (0, .50, 0),
    "shoulder_left": (-.19, .48, 0), "elbow_left": (-.24, .22, .02), "wrist_left": (-.26, -.02, .02),
    "hand_left": (-.26, -.09, .02), "hand_tip_left": (-.26, -.15, .02), "thumb_left": (-.23, -.08, -.03),
    "shoulder_right": (.19, .48, 0), "elbow_right": (.40, .55, -.05), "wrist_right": (.42, .80, -.08),
    "hand_right": (.42, .88, -.08), "hand_tip_right": (.42, .94, -.08), "thumb_right": (.38, .86, -.1),
    "hip_left": (-.09, -.02, 0), "knee_left": (-.10, -.45, .02), "ankle_left": (-.10, -.85, .04),
    "foot_left": (-.10, -.88, -.08),
    "hip_right": (.09, -.02, 0), "knee_right": (.10, -.45, .02), "ankle_right": (.10, -.85, .04),
    "foot_right": (.10, -.88, -.08),
}
CLASSES = ["wave", "clap", "throw", "boxing", "bowling", "no_action"]


def canonical_body(x: float, z: float) -> np.ndarray:
    """(25, 3) Kinect v2 joints in canonical metres, hips at (x, -0.05, z)."""
    return np.array([_POSE[n] for n in KINECT_V2.joints], np.float32) + np.float32([x, -0.05, z])


def render_depth(bodies_xyz, intr=KINECT_V2_DEPTH) -> np.ndarray:
    """uint16 mm depth: a back wall with a floor gradient, and a blob of discs along each body's bones."""
    h, w = intr.shape
    depth = np.full((h, w), 4300, np.uint16)
    depth[int(h * 0.7):] = np.linspace(4300, 1500, h - int(h * 0.7))[:, None].astype(np.uint16)
    depth[:, :6] = 0  # the sensor's invalid border
    yy, xx = np.mgrid[0:h, 0:w]
    for xyz in sorted(bodies_xyz, key=lambda b: -b[:, 2].mean()):
        for a, b in KINECT_V2.bones:
            for s in np.linspace(0, 1, 12):
                p = xyz[a] * (1 - s) + xyz[b] * s
                u, v = intr.project(p)
                r = 0.07 * intr.fx / p[2]
                y0, y1, x0, x1 = int(max(v - r, 0)), int(min(v + r + 1, h)), int(max(u - r, 0)), int(min(u + r + 1, w))
                disc = (yy[y0:y1, x0:x1] - v) ** 2 + (xx[y0:y1, x0:x1] - u) ** 2 <= r * r
                depth[y0:y1, x0:x1][disc] = int(p[2] * 1000)
    return depth


def make_frame(t=0.0, people=((1, -0.55, 2.6), (2, 0.6, 3.2)), with_depth=True, untracked=()):
    bodies, xyzs = [], []
    for pid, x, z in people:
        xyz = canonical_body(x, z)
        conf = np.ones(len(xyz), np.float32)
        for name in untracked:
            conf[KINECT_V2.index(name)] = 0.0
        bodies.append(Body(pid, from_canonical_axes(xyz, KINECT_V2), conf))
        xyzs.append(xyz)
    return Frame(t, bodies, render_depth(xyzs) if with_depth else None)


def pred(person, label, conf=0.8, state="action", t=0.0, classifiable=True):
    top5 = [(label or "wave", conf), ("clap", 0.1), ("throw", 0.05), ("boxing", 0.03), ("bowling", 0.02)]
    return Prediction(t_frame=t, t_published=t, person=person, label=label, confidence=conf, top5=top5,
                      classifiable=classifiable, state=state, latency_ms=9.0)


def test_canonical_axes_helper_keeps_every_joint():
    xyz = canonical_body(0.3, 2.0)
    back = layout_points_to_canonical_axes(from_canonical_axes(xyz, KINECT_V2), KINECT_V2)
    np.testing.assert_allclose(back, xyz, atol=1e-6)
    az = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    np.testing.assert_allclose(layout_points_to_canonical_axes(from_canonical_axes(az, AZURE_KINECT), AZURE_KINECT),
                               az, atol=1e-5)


def test_depth_view_projects_head_onto_the_image(qtbot):
    view = DepthView()
    qtbot.addWidget(view)
    frame = make_frame(untracked=("hand_tip_left",))
    view.set_frame(frame, KINECT_V2, KINECT_V2_DEPTH, labels={1: "wave"})
    head = KINECT_V2.index("head")
    expected = KINECT_V2_DEPTH.project(canonical_body(-0.55, 2.6))
    u, v = view.projected[1][head]
    assert 0 <= u < 512 and 0 <= v < 424
    np.testing.assert_allclose(view.projected[1], expected, atol=1e-3)
    # the tracked-joint scatter of person 1 holds exactly the projected tracked joints
    items = next(s for s in view.skeletons.active if s.person == 1)
    x, y = items.joints.getData()
    tracked = np.ones(25, bool)
    tracked[KINECT_V2.index("hand_tip_left")] = False
    np.testing.assert_allclose(np.c_[x, y], expected[tracked], atol=1e-3)
    fx, fy = items.faint_joints.getData()
    np.testing.assert_allclose(np.c_[fx, fy], expected[~tracked], atol=1e-3)
    assert "wave" in items.text and items.label.isVisible()
    # the body's pixels are highlighted (high bit), the back wall is not; 0 depth stays black (index 0)
    index = view.image.image
    assert index[int(v) + 25, int(u)] >= 129
    assert index[10, 100] < 128 and index[100, 2] == 0
    assert view.depth_range[0] < 2600 < view.depth_range[1] <= 4300


def test_depth_view_azure_and_skeleton_only(qtbot):
    view = DepthView()
    qtbot.addWidget(view)
    xyz = canonical_body(0.2, 2.0)
    body = Body(7, from_canonical_axes(xyz, KINECT_V2), np.ones(25, np.float32))
    view.set_frame(Frame(0.0, [body]), KINECT_V2, None, {})  # no depth, no intrinsics: Kinect v2 default
    assert not view.image.isVisible() and view.placeholder.isVisible()
    assert view.shape == (424, 512)
    np.testing.assert_allclose(view.projected[7], KINECT_V2_DEPTH.project(xyz), atol=1e-3)
    # Azure: mm, flipped axes, unmirrored camera; all 32 joints kept for drawing
    az = np.zeros((32, 3), np.float32)
    az[:, 2] = 2.0
    az[AZURE_KINECT.index("head"), :2] = (0.1, 0.5)
    raw = from_canonical_axes(az, AZURE_KINECT)
    frame = Frame(0.0, [Body(3, raw, np.ones(32, np.float32))], np.full((576, 640), 2500, np.uint16))
    view.set_frame(frame, AZURE_KINECT, AZURE_NFOV_UNBINNED, {3: "clap"})
    u, v = view.projected[3][AZURE_KINECT.index("head")]
    assert view.projected[3].shape == (32, 2) and view.shape == (576, 640)
    assert u == pytest.approx(320 - 504 * 0.05) and v == pytest.approx(288 - 504 * 0.25)


def test_depth_view_survives_lost_joints(qtbot):
    view, sides = DepthView(), SideViews()
    qtbot.addWidget(view)
    qtbot.addWidget(sides)
    lost = Body(4, np.full((25, 3), np.nan, np.float32), np.zeros(25, np.float32))
    behind = Body(5, np.zeros((25, 3), np.float32), np.ones(25, np.float32))  # z = 0: nothing projectable
    frame = make_frame(people=((1, 0.0, 2.0),))
    frame.bodies += [lost, behind]
    view.set_frame(frame, KINECT_V2, KINECT_V2_DEPTH, {4: "wave"})
    sides.set_bodies(frame.bodies, KINECT_V2)
    assert np.isnan(view.projected[4]).all() and np.isnan(view.projected[5]).all()
    slot = next(s for s in view.skeletons.active if s.person == 4)
    assert len(slot.joints.getData()[0]) == 0 and not slot.label.isVisible()


def test_many_frames_reuse_items(qtbot):
    view, sides = DepthView(), SideViews()
    qtbot.addWidget(view)
    qtbot.addWidget(sides)
    frames = [make_frame(t=0.0), make_frame(t=0.0, people=((1, -0.5, 2.5),)), make_frame(with_depth=False)]
    view.set_frame(frames[0], KINECT_V2, KINECT_V2_DEPTH, {1: "wave", 2: "clap"})
    sides.set_bodies(frames[0].bodies, KINECT_V2)
    counts = (view.item_count(), sides.item_count())
    for i in range(100):
        f = frames[i % 3]
        f.t = i / 30
        view.set_frame(f, KINECT_V2, KINECT_V2_DEPTH, {1: "wave"})
        sides.set_bodies(f.bodies, KINECT_V2)
        assert len(view.skeletons.active) == len(f.bodies) == len(sides.pools["top"].active)
    assert (view.item_count(), sides.item_count()) == counts
    assert len(view.skeletons.slots) == 2
    hidden = [s for s in view.skeletons.slots if s not in view.skeletons.active]
    assert all(not item.isVisible() for s in hidden for item in s.items)


def test_side_views_positions(qtbot):
    sides = SideViews()
    qtbot.addWidget(sides)
    f = make_frame()
    sides.set_bodies(f.bodies, KINECT_V2)
    head = KINECT_V2.index("head")
    items = next(s for s in sides.pools["side"].active if s.person == 2)
    x, y = items.joints.getData()
    assert (x[head], y[head]) == pytest.approx((3.2, 0.65), abs=1e-5)  # side view: (z, y)
    items = next(s for s in sides.pools["top"].active if s.person == 2)
    x, y = items.joints.getData()
    assert (x[head], y[head]) == pytest.approx((0.6, 3.2), abs=1e-5)  # top view: (x, z)


def test_prediction_panel_rows_states_and_timeline(qtbot):
    panel = PredictionPanel(classes=CLASSES)
    qtbot.addWidget(panel)
    panel.update_prediction(pred(2, "wave", 0.9, t=1.0))
    panel.update_prediction(pred(1, None, 0.3, state="no_action", t=1.0))
    assert sorted(panel.rows) == [1, 2]
    assert panel.rows[2].action.text() == "wave" and panel.rows[2].confidence.text() == "90%"
    assert panel.rows[1].action.text() == NO_ACTION
    panel.update_prediction(pred(1, None, 0.0, state="unclassifiable", t=1.1, classifiable=False))
    assert panel.rows[1].action.text() == NOT_CLASSIFIABLE and panel.rows[1].bars.items == []
    # rows are laid out in person order whatever the arrival order
    order = [panel.rows_box.itemAt(i).widget() for i in range(panel.rows_box.count())]
    assert [w.person for w in order if hasattr(w, "person")] == [1, 2]

    panel.add_event(ActionEvent("start", 2, "wave", 1.0, 0.9))
    for k in range(20):
        panel.update_prediction(pred(2, "wave" if k < 10 else "clap", 0.8, t=1.0 + 0.1 * k))
    panel.add_event(ActionEvent("end", 2, "wave", 2.0, 0.95))
    tl = panel.rows[2].timeline
    assert [(k, lab) for _, k, lab in tl.events] == [("start", "wave"), ("end", "wave")]
    assert [s[2] for s in tl.segments] == ["wave", "clap"] and tl.segments[0][1] == pytest.approx(2.0)
    panel.add_event(ActionEvent("end", 2, "clap", 1.5, 0.9))  # a late event (older than now) keeps the history
    assert len(tl.segments) == 2 and len(tl.events) == 3
    tl.resize(300, tl.height())
    img = tl.grab().toImage()  # the newest segment is painted in its class colour at the right end
    c = img.pixelColor(img.width() - 2, tl.LANE_H // 2)
    assert (c.red(), c.green(), c.blue()) == colors.class_color("clap", CLASSES)
    panel.set_time(40.0)  # 30 s later the history has scrolled out
    assert not tl.segments and not tl.events
    panel.set_time(5.0)  # a seek back clears instead of showing a future that did not happen
    assert tl.now == 5.0

    panel.remove_person(2)
    assert list(panel.rows) == [1]
    panel.add_event(ActionEvent("end", 2, "wave", 6.0, 0.9))  # a late end must not resurrect the row
    assert list(panel.rows) == [1]
    panel.clear()
    assert not panel.rows and not panel.empty.isHidden()


def test_status_panel_banner(qtbot):
    status = StatusPanel()
    qtbot.addWidget(status)
    status.show()
    status.set_status(source="demo.kinrec", state="replaying", capture_fps=29.97, latency_ms=11.4,
                      dropped_windows=2, model="tarm-utd")
    assert status.state.text() == "replaying" and status.fps.text() == "capture 30.0 fps"
    assert not status.banner_visible
    status.show_error("sensor lost: reconnecting")
    assert status.banner_visible and status.log[-1].endswith("sensor lost: reconnecting")
    from PySide6.QtCore import Qt
    qtbot.mouseClick(status.dismiss_button, Qt.MouseButton.LeftButton)
    assert not status.banner_visible and len(status.log) == 1

    class _S:  # a RunnerStatus stand-in
        source, state, capture_fps, latency_ms, dropped_windows, error = "kinect2", "error", 0.0, 0.0, 5, "boom"
    status.update_from(_S)
    status.update_from(_S)
    assert status.banner_visible and len(status.log) == 2 and status.dropped.text() == "dropped 5"

    class _N(_S):  # a working sensor with something to say (k4a without its body tracker): shown once
        state, error, notice = "connected", "", "body tracking unavailable: streaming depth only"
    status.dismiss_error()
    status.update_from(_N)
    status.update_from(_N)
    assert status.banner_visible and "depth only" in status.banner_text.text() and len(status.log) == 3


def test_colors_are_stable_and_distinct():
    assert colors.person_color(3) == colors.person_color(3 + len(colors.PERSON_COLORS))
    assert len(set(colors.CLASS_COLORS)) == 27
    assert colors.class_color("clap", CLASSES) == colors.CLASS_COLORS[1]
    assert colors.class_color("unknown-class") == colors.class_color("unknown-class")
    assert colors.depth_lut().shape == (256, 3)


def test_composed_window_screenshot(qtbot):
    """Two people, everything wired by hand the way the main window will; saved for a person to look at."""
    win = QtWidgets.QWidget()
    qtbot.addWidget(win)
    depth, sides, panel, status = DepthView(), SideViews(), PredictionPanel(classes=CLASSES), StatusPanel()
    grid = QtWidgets.QGridLayout(win)
    grid.addWidget(depth, 0, 0, 2, 1)
    grid.addWidget(sides, 0, 1)
    grid.addWidget(panel, 1, 1)
    grid.addWidget(status, 2, 0, 1, 2)
    grid.setColumnStretch(0, 3)
    grid.setColumnStretch(1, 2)
    grid.setRowStretch(0, 2)
    grid.setRowStretch(1, 3)
    win.resize(1280, 800)
    frame = make_frame(t=12.0, untracked=("hand_tip_left", "thumb_left", "foot_left"))
    labels = {1: "wave", 2: "no action"}
    depth.set_frame(frame, KINECT_V2, KINECT_V2_DEPTH, labels)
    sides.set_bodies(frame.bodies, KINECT_V2)
    for k in range(100):
        t = 2.0 + 0.1 * k
        panel.update_prediction(pred(1, "clap" if k < 30 else None if k < 45 else "wave", 0.87, t=t,
                                     state="action" if not 30 <= k < 45 else "no_action"))
        panel.update_prediction(pred(2, None, 0.31, state="no_action" if k < 60 else "uncertain", t=t))
    panel.add_event(ActionEvent("start", 1, "clap", 2.0, 0.7))
    panel.add_event(ActionEvent("end", 1, "clap", 5.0, 0.9))
    panel.add_event(ActionEvent("start", 1, "wave", 6.5, 0.8))
    panel.set_time(12.0)
    status.set_status(source="recordings/demo.kinrec", state="replaying", capture_fps=30.0, latency_ms=8.2,
                      dropped_windows=0, model="tarm-utd-mhad")
    status.show_error("depth stream stalled for 1.2 s; skeleton continues")
    win.show()
    qtbot.waitExposed(win)
    assert win.grab().save("/tmp/gui_views.png")
