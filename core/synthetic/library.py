"""The action library: keyframes for every UTD-MHAD class and every MSR Action3D class.

Each action was shaped after how the datasets' subjects perform it (right-handed unless the class says
otherwise, in place, facing the sensor) and checked on a contact sheet against the real skeletons' ranges of
motion. Angles follow `skeleton`'s conventions: per side `sh_plane` 0 = arm out sideways, 90 = ahead, >90
across the body; `sh_elev` away from hanging (negative = behind); `sh_rot` negative turns the forearm up
when the arm is raised sideways; `hip_elev` lifts the thigh forward; knees fold back, elbows forward.
Hand drawings are traced by aiming a nearly straight arm at points of a figure held in front of the shoulder
(`_trace`), which is how people draw in the air.
"""
from __future__ import annotations

import numpy as np

from kinact.core.synthetic.actions import Action


def K(dt: float, **pose) -> tuple:
    return (dt, pose)


def arm(side: str, plane: float, elev: float, elbow: float, rot: float = 0.0, wrist: float = 0.0) -> dict:
    return {f"{side}_sh_plane": plane, f"{side}_sh_elev": elev, f"{side}_elbow": elbow, f"{side}_sh_rot": rot,
            f"{side}_wrist": wrist}


def both(*dicts, **extra) -> dict:
    out = {}
    for d in dicts:
        out.update(d)
    out.update(extra)
    return out


def _aim(x: float, y: float, z: float) -> tuple[float, float]:
    """Plane and elevation (degrees) that point the arm at (out, up, forward) from the shoulder."""
    n = np.sqrt(x * x + y * y + z * z)
    return float(np.degrees(np.arctan2(z, x))), float(np.degrees(np.arccos(-y / n)))


def _trace(points, dt: float, side: str = "r", elbow: float = 12.0) -> tuple:
    keys = []
    for x, y, z in points:
        plane, elev = _aim(x, y, z)
        keys.append(K(dt, **arm(side, plane, elev, elbow, rot=-20)))
    return tuple(keys)


def _circle(clockwise: bool, n: int = 12, r: float = 0.33, c=(0.08, 0.12, 0.9)):
    """Clockwise as the performer sees it: top, then their right (out), bottom, left."""
    s = 1.0 if clockwise else -1.0
    ang = np.linspace(0, 2 * np.pi, n + 1)[1:]
    return [(c[0] + s * r * np.sin(a), c[1] + r * np.cos(a), c[2]) for a in ang]


def _guard(side: str) -> dict:
    return arm(side, 75, 30, 125, rot=25)


def _punch(side: str, plane: float = 95) -> dict:
    return arm(side, plane, 85, 5, rot=10)


_CIRCLE_TOP = (0.08, 0.45, 0.9)
ACTIONS: tuple[Action, ...] = (
    Action("swipe_left", "Swipe left", "right arm swipe to the left", None,
           (K(0.55, **arm("r", 15, 80, 25, -10)), K(0.2), K(0.55, spine_twist=-15, **arm("r", 135, 80, 20, -10)),
            K(0.25)), moves=("hand_right",)),
    Action("swipe_right", "Swipe right", "right arm swipe to the right", None,
           (K(0.6, spine_twist=-12, **arm("r", 135, 80, 25, -10)), K(0.2),
            K(0.55, spine_twist=10, **arm("r", 15, 80, 20, -10)), K(0.25)), moves=("hand_right",)),
    Action("right_hand_wave", "Wave", "right hand wave", "high arm wave",
           (K(0.6, **arm("r", 25, 95, 80, -90)),),
           (K(0.25, r_elbow=50, r_sh_plane=20), K(0.25, r_elbow=105, r_sh_plane=30)), (3, 5), moves=("hand_right",)),
    Action("two_hand_wave", "Two hand wave", None, "two hand wave",
           (K(0.7, **both(arm("l", 30, 150, 25, -60), arm("r", 30, 150, 25, -60))),),
           (K(0.35, b_sh_elev=170, b_sh_plane=45, b_elbow=15), K(0.35, b_sh_elev=130, b_sh_plane=15, b_elbow=35)),
           (2, 4), moves=("hand_right", "hand_left")),
    Action("clap", "Clap", "two hand front clap", "hand clap",
           (K(0.5, **both(arm("l", 70, 45, 70, 10), arm("r", 70, 45, 70, 10))),),
           (K(0.2, b_sh_plane=112, b_elbow=60), K(0.22, b_sh_plane=62, b_elbow=75)), (3, 5),
           moves=("hand_right", "hand_left")),
    Action("throw", "Throw", "right arm throw", "high throw",
           (K(0.6, spine_twist=20, spine_bend=-5, **both(arm("r", 10, 130, 100, -80), arm("l", 80, 40, 30))),
            K(0.25), K(0.3, spine_twist=-20, spine_bend=15, **both(arm("r", 85, 70, 10), arm("l", 20, 15, 20))),
            K(0.3, spine_bend=10, **arm("r", 100, 40, 20))), settle=0.8, moves=("hand_right",)),
    Action("cross_arms", "Cross arms", "cross arms in the chest", None,
           (K(0.7, **both(arm("l", 118, 38, 118, 55), arm("r", 122, 42, 112, 55))), K(1.2)),
           moves=("hand_right", "hand_left")),
    Action("basketball_shoot", "Basketball shot", "basketball shoot", None,
           (K(0.5, spine_bend=10, b_knee=35, b_hip_elev=25, root_fwd=-0.08,
              **both(arm("l", 100, 35, 125, -20), arm("r", 95, 35, 125, -20))),
            K(0.2),
            K(0.35, spine_bend=-5, b_knee=0, b_hip_elev=0, root_fwd=0,
              **both(arm("r", 85, 150, 25, -30, 40), arm("l", 70, 130, 50))),
            K(0.2, r_wrist=65), K(0.3)), settle=0.8, moves=("hand_right", "hand_left")),
    Action("draw_x", "Draw X", "right hand draw x", "draw x",
           (K(0.6, **arm("r", *_aim(-0.25, 0.35, 0.9), 12, -20)), K(0.15)) +
           _trace([(0.3, -0.22, 0.9)], 0.45) + _trace([(0.32, 0.35, 0.8)], 0.35) + _trace([(-0.25, -0.22, 0.9)], 0.45),
           moves=("hand_right",)),
    Action("draw_circle_cw", "Draw circle (clockwise)", "right hand draw circle (clockwise)", "draw circle",
           (K(0.6, **arm("r", *_aim(*_CIRCLE_TOP), 12, -20)),), _trace(_circle(True), 0.11), (1, 2),
           moves=("hand_right",)),
    Action("draw_circle_ccw", "Draw circle (counter-clockwise)", "right hand draw circle (counter clockwise)", None,
           (K(0.6, **arm("r", *_aim(*_CIRCLE_TOP), 12, -20)),), _trace(_circle(False), 0.11), (1, 2),
           moves=("hand_right",)),
    Action("draw_triangle", "Draw triangle", "draw triangle", None,
           (K(0.6, **arm("r", *_aim(0.05, 0.4, 0.9), 12, -20)),) +
           _trace([(0.35, -0.2, 0.9), (-0.25, -0.2, 0.9), (0.05, 0.4, 0.9)], 0.45), moves=("hand_right",)),
    Action("draw_tick", "Draw tick", None, "draw tick",
           (K(0.5, **arm("r", *_aim(-0.12, 0.05, 0.9), 12, -20)),) +
           _trace([(0.0, -0.18, 0.9), (0.38, 0.38, 0.85)], 0.35), mirrorable=True, moves=("hand_right",)),
    Action("bowling", "Bowling", "bowling (right hand)", None,
           (K(0.5, **both(arm("r", 90, 25, 70), arm("l", 90, 30, 70))),
            K(0.5, spine_bend=25, l_hip_elev=35, l_knee=45, r_hip_elev=-12, r_knee=25, root_fwd=0.08,
              **both(arm("r", 90, -45, 10), arm("l", 10, 40, 15))),
            K(0.45, spine_bend=20, **arm("r", 90, 75, 10)), K(0.3)), settle=0.9, moves=("hand_right",)),
    Action("front_boxing", "Boxing", "front boxing", None, (K(0.5, **both(_guard("l"), _guard("r"))),),
           (K(0.22, spine_twist=-15, **_punch("r")), K(0.25, spine_twist=0, **_guard("r")),
            K(0.22, spine_twist=15, **_punch("l")), K(0.25, spine_twist=0, **_guard("l"))), (2, 3),
           moves=("hand_right", "hand_left")),
    Action("forward_punch", "Punch", None, "forward punch",
           (K(0.45, **both(arm("l", 70, 20, 70, 20), _guard("r"))), K(0.2, spine_twist=-15, **_punch("r")),
            K(0.3, spine_twist=0, **_guard("r"))), mirrorable=True, moves=("hand_right",)),
    Action("side_boxing", "Side boxing", None, "side-boxing",
           (K(0.45, spine_twist=-20, **both(arm("l", 70, 25, 90, 20), _guard("r"))),),
           (K(0.2, spine_twist=10, **_punch("r", 15)), K(0.3, spine_twist=-20, **_guard("r"))), (2, 3),
           mirrorable=True, moves=("hand_right",)),
    Action("baseball_swing", "Baseball swing", "baseball swing from right", None,
           (K(0.6, spine_twist=35, **both(arm("r", 60, 45, 110, -40), arm("l", 130, 60, 70))), K(0.3),
            K(0.15, spine_twist=0, **both(arm("r", 100, 80, 10), arm("l", 95, 80, 10))),
            K(0.2, spine_twist=-45, **both(arm("r", 140, 70, 70), arm("l", 50, 50, 110, -40))), K(0.3)),
           settle=0.9, moves=("hand_right", "hand_left")),
    Action("golf_swing", "Golf swing", None, "golf swing",
           (K(0.6, spine_bend=30, b_knee=15, b_hip_elev=10,
              **both(arm("r", 105, 30, 15, 10), arm("l", 105, 30, 10, 10))),
            K(0.7, spine_twist=50, **both(arm("l", 150, 95, 10), arm("r", 45, 100, 90, -60))),
            K(0.3, spine_twist=0, **both(arm("r", 105, 30, 15, 10), arm("l", 105, 30, 10, 10))),
            K(0.35, spine_twist=-50, spine_bend=15, **both(arm("r", 150, 100, 20), arm("l", 40, 110, 100, -60))),
            K(0.3)), settle=1.0, mirrorable=True, moves=("hand_right", "hand_left")),
    Action("tennis_forehand", "Tennis forehand", "tennis right hand forehand swing", "tennis swing",
           (K(0.6, spine_twist=40, b_knee=15, b_hip_elev=10, **both(arm("r", -15, 55, 25, -20), arm("l", 80, 40, 40))),
            K(0.2), K(0.2, spine_twist=0, **arm("r", 70, 65, 15)),
            K(0.25, spine_twist=-35, **both(arm("r", 140, 100, 70), arm("l", 50, 25, 35)))), settle=0.8,
           moves=("hand_right",)),
    Action("tennis_serve", "Tennis serve", "tennis serve", "tennis serve",
           (K(0.6, spine_bend=-12, b_knee=20, b_hip_elev=8, **both(arm("l", 80, 165, 10), arm("r", 10, 120, 130, -95))),
            K(0.2), K(0.25, spine_bend=0, b_knee=0, b_hip_elev=0,
              **both(arm("r", 60, 170, 10, -40), arm("l", 60, 60, 40))),
            K(0.3, spine_bend=25, **both(arm("r", 110, 45, 20, 20), arm("l", 40, 20, 30)))), settle=0.9,
           moves=("hand_right", "hand_left")),
    Action("arm_curl", "Arm curl", "arm curl (two arms)", None,
           (K(0.3, **both(arm("l", 10, 10, 20), arm("r", 10, 10, 20))),),
           (K(0.6, b_elbow=140, b_wrist=15), K(0.6, b_elbow=15, b_wrist=0)), (2, 4), moves=("hand_right", "hand_left")),
    Action("two_hand_push", "Push", "two hand push", None,
           (K(0.5, **both(arm("l", 95, 35, 130, -10), arm("r", 95, 35, 130, -10))),
            K(0.45, b_sh_elev=85, b_elbow=10, spine_bend=8), K(0.3), K(0.45, b_sh_elev=35, b_elbow=130, spine_bend=0)),
           settle=0.6, moves=("hand_right", "hand_left")),
    Action("knock", "Knock on door", "right hand knock on door", None, (K(0.6, **arm("r", 75, 65, 100, -40)),),
           (K(0.15, r_elbow=80, r_wrist=25), K(0.18, r_elbow=105, r_wrist=-5)), (3, 4), moves=("hand_right",)),
    Action("catch", "Catch", "right hand catch an object", "hand catch",
           (K(0.4, **arm("r", *_aim(0.3, 0.45, 0.8), 10, -30)), K(0.2), K(0.4, **arm("r", 100, 30, 120, 20)), K(0.3)),
           moves=("hand_right",)),
    Action("pick_up_throw", "Pick up and throw", "right hand pick up and throw", "pick up & throw",
           (K(0.8, spine_bend=70, b_knee=35, b_hip_elev=15, **both(arm("r", 90, 60, 10), arm("l", 60, 20, 20))),
            K(0.3),
            K(0.6, spine_bend=0, b_knee=0, b_hip_elev=0, spine_twist=20,
              **both(arm("r", 20, 130, 100, -80), arm("l", 80, 30, 30))),
            K(0.3, spine_twist=-20, spine_bend=15, **arm("r", 85, 70, 10))), settle=0.8, moves=("hand_right",)),
    Action("hammer", "Hammer", None, "hammer", (K(0.5, **arm("r", 80, 110, 100, -20)),),
           (K(0.2, r_sh_elev=55, r_elbow=40), K(0.35, r_sh_elev=110, r_elbow=100)), (2, 4), mirrorable=True,
           moves=("hand_right",)),
    Action("horizontal_wave", "Horizontal wave", None, "horizontal arm wave", (K(0.5, **arm("r", 60, 90, 15)),),
           (K(0.4, r_sh_plane=120), K(0.4, r_sh_plane=40)), (2, 3), mirrorable=True, moves=("hand_right",)),
    Action("jogging", "Jogging", "jogging in place", "jogging",
           (K(0.3, spine_bend=6, **both(arm("l", 90, 10, 85), arm("r", 90, 10, 85))),),
           (K(0.17, r_hip_elev=55, r_knee=95, l_hip_elev=0, l_knee=10, r_sh_elev=-25, l_sh_elev=30),
            K(0.17, r_hip_elev=5, r_knee=15, r_sh_elev=5, l_sh_elev=5),
            K(0.17, l_hip_elev=55, l_knee=95, r_hip_elev=0, r_knee=10, l_sh_elev=-25, r_sh_elev=30),
            K(0.17, l_hip_elev=5, l_knee=15, r_sh_elev=5, l_sh_elev=5)), (4, 6), moves=("knee_right", "knee_left")),
    Action("walking", "Walking", "walking in place", None,
           (K(0.3, **both(arm("l", 90, 0, 15), arm("r", 90, 0, 15))),),
           (K(0.27, r_hip_elev=30, r_knee=55, l_hip_elev=0, l_knee=5, r_sh_elev=-15, l_sh_elev=15),
            K(0.27, r_hip_elev=3, r_knee=8, r_sh_elev=0, l_sh_elev=0),
            K(0.27, l_hip_elev=30, l_knee=55, r_hip_elev=0, r_knee=5, l_sh_elev=-15, r_sh_elev=15),
            K(0.27, l_hip_elev=3, l_knee=8, r_sh_elev=0, l_sh_elev=0)), (3, 5), moves=("knee_right", "knee_left")),
    Action("stand_to_sit", "Sit down", "stand to sit", None,
           (K(0.7, spine_bend=35, b_hip_elev=60, b_knee=60, root_fwd=-0.22,
              **both(arm("l", 90, 35, 30), arm("r", 90, 35, 30))),
            K(0.6, b_hip_elev=90, b_knee=90, root_fwd=-0.28, spine_bend=10), K(0.3)),
           end="sit", scalable=False, moves=("hip_center", "head")),
    Action("sit_to_stand", "Stand up", "sit to stand", None,
           (K(0.3), K(0.6, spine_bend=40, **both(arm("l", 90, 35, 30), arm("r", 90, 35, 30))),
            K(0.9, b_hip_elev=0, b_knee=0, root_fwd=0, spine_bend=5)),
           start="sit", scalable=False, moves=("hip_center", "head")),
    Action("forward_lunge", "Lunge", "forward lunge (left foot forward)", None,
           (K(0.35, l_hip_elev=45, l_knee=60, root_fwd=0.06),
            K(0.45, l_hip_elev=70, l_knee=70, r_hip_elev=-15, r_knee=60, root_fwd=0.27, spine_bend=5), K(0.5),
            K(0.45, l_hip_elev=45, l_knee=60, r_hip_elev=0, r_knee=5, root_fwd=0.06, spine_bend=0)), settle=0.5,
           moves=("foot_left", "hip_center")),
    Action("squat", "Squat", "squat (two arms stretch out)", None,
           (K(0.5, **both(arm("l", 90, 90, 5), arm("r", 90, 90, 5))),),
           (K(0.8, b_hip_elev=85, b_knee=105, spine_bend=25, root_fwd=-0.21, b_sh_elev=68),
            K(0.8, b_hip_elev=0, b_knee=0, spine_bend=0, root_fwd=0, b_sh_elev=90)), (1, 2),
           moves=("hip_center", "knee_left", "knee_right")),
    Action("bend", "Bend", None, "bend",
           (K(1.0, spine_bend=80, b_knee=8, b_hip_elev=10, root_fwd=-0.05, head_nod=10,
              **both(arm("l", 90, 75, 10), arm("r", 90, 75, 10))),
            K(0.4)), settle=1.0, moves=("head", "shoulder_center")),
    Action("forward_kick", "Forward kick", None, "forward kick",
           (K(0.4, r_hip_elev=70, r_knee=100, l_knee=10, spine_bend=-5,
              **both(arm("l", 40, 25, 40), arm("r", 40, 25, 40))),
            K(0.2, r_hip_elev=80, r_knee=5, r_ankle=50), K(0.25, r_hip_elev=65, r_knee=95, r_ankle=0)), settle=0.5,
           mirrorable=True, moves=("foot_right",)),
    Action("side_kick", "Side kick", None, "side kick",
           (K(0.4, r_hip_plane=20, r_hip_elev=45, r_knee=90, spine_lean=-15, l_knee=10),
            K(0.25, r_hip_plane=0, r_hip_elev=65, r_knee=5, spine_lean=-25),
            K(0.3, r_hip_plane=20, r_hip_elev=45, r_knee=90, spine_lean=-10)), settle=0.5, mirrorable=True,
           moves=("foot_right",)),
)
