# Test fake of pykinect2/PyKinectRuntime.py: the same classes, methods and attributes as the real module
# (GitHub master; with _fake.SENSOR.legacy the PyPI 0.1.0 quirks), and the same Python-version breakages
# (time.clock, numpy.object, ctypes.pythonapi.PyObject_AsWriteBuffer). The Windows event thread is replaced
# by the scripted sensor in pykinect2._fake: polling has_new_body_frame() makes frames "arrive".
from pykinect2 import PyKinectV2
from pykinect2.PyKinectV2 import *

import ctypes
import comtypes
import sys
import numpy
import time

from pykinect2 import _fake

if sys.hexversion >= 0x03000000:
    import _thread as thread
else:
    import thread

KINECT_MAX_BODY_COUNT = 6


class _FrameDescription(object):
    def __init__(self, width, height):
        self.Width = width
        self.Height = height
        self.LengthInPixels = width * height
        self.BytesPerPixel = 2


class _Source(object):
    def __init__(self, width, height, body_count=KINECT_MAX_BODY_COUNT):
        self.FrameDescription = _FrameDescription(width, height)
        self.BodyCount = body_count


class _CoordinateMapper(object):
    def GetDepthCameraIntrinsics(self):
        # The real mapper reports zeros until the sensor has streamed.
        values = _fake.SENSOR.intrinsics if _fake.SENSOR.frames_delivered else (0.0, 0.0, 0.0, 0.0)
        return PyKinectV2._CameraIntrinsics(*values, 0.0, 0.0, 0.0)


class _KinectSensor(object):
    """Stands for the IKinectSensor COM object (GetDefaultKinectSensor succeeds without hardware)."""

    def __init__(self):
        self._open = False
        self.CoordinateMapper = _CoordinateMapper()
        self.ColorFrameSource = _Source(1920, 1080)
        self.InfraredFrameSource = _Source(512, 424)
        self.DepthFrameSource = _Source(_fake.WIDTH, _fake.HEIGHT)
        self.BodyIndexFrameSource = _Source(512, 424)
        self.BodyFrameSource = _Source(0, 0)

    def Open(self):
        self._open = True
        return 0

    def Close(self):
        self._open = False
        return 0

    @property
    def IsOpen(self):
        return self._open

    @property
    def IsAvailable(self):
        return self._open and _fake.SENSOR.attached


class _FakeIBody(object):
    """Stands for an IBody COM pointer: IsTracked, TrackingId, ..., GetJoints(capacity, joints)."""

    def __init__(self, person, k):
        self._person, self._k = person, k
        self.IsTracked = person is not None
        self.IsRestricted = False
        self.TrackingId = person.tracking_id if person is not None else 0
        self.Engaged = 0
        self.Lean = PyKinectV2._Vector4()
        self.LeanTrackingState = 0
        self.HandLeftState = self.HandRightState = HandState_Unknown
        self.HandLeftConfidence = self.HandRightConfidence = 0
        self.ClippedEdges = 0

    def GetJoints(self, capacity, joints):
        positions, states = self._person.joints(self._k), self._person.states()
        for j in range(capacity):
            joints[j].JointType = j
            joints[j].Position.x, joints[j].Position.y, joints[j].Position.z = positions[j]
            joints[j].TrackingState = int(states[j])
        return 0

    def GetJointOrientations(self, capacity, joint_orientations):
        for j in range(capacity):
            joint_orientations[j].JointType = j
            joint_orientations[j].Orientation.w = 1.0
        return 0


class _FakeIBodyFrame(object):
    def __init__(self, k):
        self.FloorClipPlane = PyKinectV2._Vector4(0.0, 1.0, 0.0, 0.9)
        self.RelativeTime = 123_000_000_000 + k * 333_333  # TIMESPAN, 100 ns ticks


class PyKinectRuntime(object):
    """manages Kinect objects and simplifying access to them"""
    def __init__(self, frame_source_types):
        # recipe to get address of surface: http://archives.seul.org/pygame/users/Apr-2008/msg00218.html
        is_64bits = sys.maxsize > 2**32
        if not is_64bits:
           self.Py_ssize_t = ctypes.c_int
        else:
           self.Py_ssize_t = ctypes.c_int64

        self._PyObject_AsWriteBuffer = ctypes.pythonapi.PyObject_AsWriteBuffer
        self._PyObject_AsWriteBuffer.restype = ctypes.c_int

        self._color_frame_lock = thread.allocate()
        self._depth_frame_lock = thread.allocate()
        self._body_frame_lock = thread.allocate()
        self._body_index_frame_lock = thread.allocate()
        self._infrared_frame_lock = thread.allocate()

        #initialize sensor
        self._sensor = _KinectSensor()
        hres = self._sensor.Open()
        _fake.SENSOR.runtimes_opened += 1

        self._mapper = self._sensor.CoordinateMapper

        self.frame_source_types = frame_source_types
        self.max_body_count = KINECT_MAX_BODY_COUNT

        self._color_source = self._sensor.ColorFrameSource
        self.color_frame_desc = self._color_source.FrameDescription
        self._infrared_source = self._sensor.InfraredFrameSource
        self.infrared_frame_desc = self._infrared_source.FrameDescription
        self._depth_source = self._sensor.DepthFrameSource
        self.depth_frame_desc = self._depth_source.FrameDescription
        self._body_index_source = self._sensor.BodyIndexFrameSource
        self.body_index_frame_desc = self._body_index_source.FrameDescription
        self._body_source = self._sensor.BodyFrameSource
        self.max_body_count = self._body_source.BodyCount

        self._depth_frame_data = None
        self._body_frame_data = None
        if(self.frame_source_types & FrameSourceTypes_Depth):
            self._depth_frame_data_capacity = ctypes.c_uint(self.depth_frame_desc.Width * self.depth_frame_desc.Height)
            self._depth_frame_data = numpy.zeros(self._depth_frame_data_capacity.value, numpy.uint16)
        if(self.frame_source_types & FrameSourceTypes_Body):
            self._body_frame_data_capacity = ctypes.c_uint(self.max_body_count)
            self._body_frame_bodies = None

        self._last_color_frame = None
        self._last_depth_frame = None
        self._last_body_frame = None
        self._polls = 0

        start_clock = time.clock()
        self._last_color_frame_access = self._last_color_frame_time = start_clock
        self._last_body_frame_access = self._last_body_frame_time = start_clock
        self._last_body_index_frame_access = self._last_body_index_frame_time = start_clock
        self._last_depth_frame_access = self._last_depth_frame_time = start_clock
        self._last_infrared_frame_access = self._last_infrared_frame_time = start_clock

    def close(self):
        if self._sensor is not None:
            self._depth_source = None
            self._body_source = None
            self._body_frame_data = None
            self._sensor.Close()
            self._sensor = None
            _fake.SENSOR.runtimes_closed += 1

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()

    # -- stands for kinect_frame_thread + handle_*_arrived of the real runtime
    def _pump(self):
        self._polls += 1
        sensor = _fake.SENSOR
        if self._sensor is None or not sensor.attached or self._polls % max(1, sensor.polls_per_frame):
            return
        k = sensor.frames_delivered
        if sensor.unplug_after is not None and k >= sensor.unplug_after:
            sensor.attached = False
            return
        if self.frame_source_types & FrameSourceTypes_Depth:
            with self._depth_frame_lock:
                self._depth_frame_data[:] = sensor.depth(k)
                self._last_depth_frame_time = time.clock()
        if self.frame_source_types & FrameSourceTypes_Body:
            with self._body_frame_lock:
                slots = [_FakeIBody(p, k) for p in sensor.slots(k, self.max_body_count)]
                self._body_frame_bodies = KinectBodyFrameData(_FakeIBodyFrame(k), slots, self.max_body_count)
                self._last_body_frame_time = time.clock()
        sensor.frames_delivered += 1

    def has_new_color_frame(self):
        has = (self._last_color_frame_time > self._last_color_frame_access)
        return has

    def has_new_depth_frame(self):
        has = (self._last_depth_frame_time > self._last_depth_frame_access)
        return has

    def has_new_body_frame(self):
        self._pump()
        has = (self._last_body_frame_time > self._last_body_frame_access)
        return has

    def get_last_depth_frame(self):
        with self._depth_frame_lock:
            if self._depth_frame_data is not None:
                data = numpy.copy(self._depth_frame_data)
                if _fake.SENSOR.legacy:
                    _last_color_frame_access = time.clock()  # sic: the PyPI 0.1.0 bug
                else:
                    self._last_depth_frame_access = time.clock()
                return data
            else:
                return None

    def get_last_body_frame(self):
        if _fake.SENSOR.raise_on_read:
            raise comtypes.COMError(-2147467259, "Unspecified error", None)
        with self._body_frame_lock:
            if self._body_frame_bodies is not None:
                if _fake.SENSOR.legacy:
                    _last_body_frame_access = time.clock()  # sic: the PyPI 0.1.0 bug
                else:
                    self._last_body_frame_access = time.clock()
                return self._body_frame_bodies.copy()
            else:
                return None

    def body_joints_to_depth_space(self, joints):
        joint_points = numpy.ndarray((PyKinectV2.JointType_Count), dtype=numpy.object)
        return joint_points


class KinectBody(object):
    def __init__(self, body = None):
        self.is_restricted = False
        self.tracking_id = -1

        self.is_tracked = False

        if body is not None:
            self.is_tracked = body.IsTracked

        if self.is_tracked:
            self.is_restricted = body.IsRestricted
            self.tracking_id = body.TrackingId
            self.engaged = body.Engaged
            self.lean = body.Lean
            self.lean_tracking_state = body.LeanTrackingState
            self.hand_left_state = body.HandLeftState
            self.hand_left_confidence = body.HandLeftConfidence
            self.hand_right_state = body.HandRightState
            self.hand_right_confidence = body.HandRightConfidence
            self.clipped_edges = body.ClippedEdges

            joints = ctypes.POINTER(PyKinectV2._Joint)
            joints_capacity = ctypes.c_uint(PyKinectV2.JointType_Count)
            joints_data_type = PyKinectV2._Joint * joints_capacity.value
            joints = ctypes.cast(joints_data_type(), ctypes.POINTER(PyKinectV2._Joint))
            body.GetJoints(PyKinectV2.JointType_Count, joints)
            self.joints = joints

            joint_orientations = ctypes.POINTER(PyKinectV2._JointOrientation)
            joint_orientations_data_type = PyKinectV2._JointOrientation * joints_capacity.value
            joint_orientations = ctypes.cast(joint_orientations_data_type(), ctypes.POINTER(PyKinectV2._JointOrientation))
            body.GetJointOrientations(PyKinectV2.JointType_Count, joint_orientations)
            self.joint_orientations = joint_orientations


class KinectBodyFrameData(object):
    def __init__(self, bodyFrame, body_frame_data, max_body_count):
        self.bodies = None
        self.floor_clip_plane = None
        if bodyFrame is not None:
            self.floor_clip_plane = bodyFrame.FloorClipPlane
            if not _fake.SENSOR.legacy:  # relative_time was added after the PyPI release
                self.relative_time = bodyFrame.RelativeTime

            self.bodies = numpy.ndarray((max_body_count), dtype=numpy.object)
            for i in range(0, max_body_count):
               self.bodies[i] = KinectBody(body_frame_data[i])

    def copy(self):
        res = KinectBodyFrameData(None, None, 0)
        res.floor_clip_plane = self.floor_clip_plane
        if hasattr(self, "relative_time"):
            res.relative_time = self.relative_time
        res.bodies = numpy.copy(self.bodies)
        return res
