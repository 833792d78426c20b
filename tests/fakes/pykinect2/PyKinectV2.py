# Test fake of pykinect2/PyKinectV2.py as released on PyPI (0.1.0): the same public names and constant
# values, the same structures, and the same import-time breakages in the same order -- the 64-bit
# tagSTATSTG assertion, comtypes' _check_version('') and the Kinect20.dll load -- but no COM interfaces.
typelib_path = 'c:\\Users\\vladkol\\Documents\\PyKinect2\\idl\\Kinect.tlb'
_lcid = 0 # change this if required
import ctypes
import comtypes
from ctypes import *
from comtypes import *
from comtypes import GUID
from comtypes import COMError
WSTRING = c_wchar_p

from pykinect2 import _fake


class _event(object):
    """class used for adding/removing/invoking a set of listener functions"""
    __slots__ = ['handlers']

    def __init__(self):
        self.handlers = []


class IBody(comtypes.IUnknown):
    _case_insensitive_ = True
    _idlflags_ = []
class _Joint(Structure):
    pass
class _JointOrientation(Structure):
    pass

# values for enumeration '_DetectionResult'
DetectionResult_Unknown = 0
DetectionResult_No = 1
DetectionResult_Maybe = 2
DetectionResult_Yes = 3
_DetectionResult = c_int # enum

# values for enumeration '_HandState'
HandState_Unknown = 0
HandState_NotTracked = 1
HandState_Open = 2
HandState_Closed = 3
HandState_Lasso = 4
_HandState = c_int # enum

# values for enumeration '_TrackingConfidence'
TrackingConfidence_Low = 0
TrackingConfidence_High = 1
_TrackingConfidence = c_int # enum

# values for enumeration '_TrackingState'
TrackingState_NotTracked = 0
TrackingState_Inferred = 1
TrackingState_Tracked = 2
_TrackingState = c_int # enum

# values for enumeration '_FrameSourceTypes'
FrameSourceTypes_None = 0
FrameSourceTypes_Color = 1
FrameSourceTypes_Infrared = 2
FrameSourceTypes_LongExposureInfrared = 4
FrameSourceTypes_Depth = 8
FrameSourceTypes_BodyIndex = 16
FrameSourceTypes_Body = 32
FrameSourceTypes_Audio = 64
_FrameSourceTypes = c_int # enum

# values for enumeration '_ColorImageFormat'
ColorImageFormat_None = 0
ColorImageFormat_Rgba = 1
ColorImageFormat_Yuv = 2
ColorImageFormat_Bgra = 3
ColorImageFormat_Bayer = 4
ColorImageFormat_Yuy2 = 5
_ColorImageFormat = c_int # enum

# values for enumeration '_JointType'
JointType_SpineBase = 0
JointType_SpineMid = 1
JointType_Neck = 2
JointType_Head = 3
JointType_ShoulderLeft = 4
JointType_ElbowLeft = 5
JointType_WristLeft = 6
JointType_HandLeft = 7
JointType_ShoulderRight = 8
JointType_ElbowRight = 9
JointType_WristRight = 10
JointType_HandRight = 11
JointType_HipLeft = 12
JointType_KneeLeft = 13
JointType_AnkleLeft = 14
JointType_FootLeft = 15
JointType_HipRight = 16
JointType_KneeRight = 17
JointType_AnkleRight = 18
JointType_FootRight = 19
JointType_SpineShoulder = 20
JointType_HandTipLeft = 21
JointType_ThumbLeft = 22
JointType_HandTipRight = 23
JointType_ThumbRight = 24
JointType_Count = 25
_JointType = c_int # enum


class _Vector4(Structure):
    pass
_Vector4._fields_ = [
    ('x', c_float),
    ('y', c_float),
    ('z', c_float),
    ('w', c_float),
]
assert sizeof(_Vector4) == 16, sizeof(_Vector4)


class _FILETIME(Structure):
    _fields_ = [('dwLowDateTime', c_uint32), ('dwHighDateTime', c_uint32)]
_ULARGE_INTEGER = c_ulonglong


class tagSTATSTG(Structure):
    pass
# The real file uses c_ulong, which is 4 bytes on Windows; c_uint32 gives the same layout on any OS.
tagSTATSTG._fields_ = [
    ('pwcsName', WSTRING),
    ('type', c_uint32),
    ('cbSize', _ULARGE_INTEGER),
    ('mtime', _FILETIME),
    ('ctime', _FILETIME),
    ('atime', _FILETIME),
    ('grfMode', c_uint32),
    ('grfLocksSupported', c_uint32),
    ('clsid', GUID),
    ('grfStateBits', c_uint32),
    ('reserved', c_uint32),
]
assert sizeof(tagSTATSTG) == 72, sizeof(tagSTATSTG)
assert alignment(tagSTATSTG) == 8, alignment(tagSTATSTG)


class _CameraSpacePoint(Structure):
    pass
_CameraSpacePoint._fields_ = [
    ('x', c_float),
    ('y', c_float),
    ('z', c_float),
]
assert sizeof(_CameraSpacePoint) == 12, sizeof(_CameraSpacePoint)
_Joint._fields_ = [
    ('JointType', _JointType),
    ('Position', _CameraSpacePoint),
    ('TrackingState', _TrackingState),
]
assert sizeof(_Joint) == 20, sizeof(_Joint)
_JointOrientation._fields_ = [
    ('JointType', _JointType),
    ('Orientation', _Vector4),
]
assert sizeof(_JointOrientation) == 20, sizeof(_JointOrientation)


class _CameraIntrinsics(Structure):
    pass
_CameraIntrinsics._fields_ = [
    ('FocalLengthX', c_float),
    ('FocalLengthY', c_float),
    ('PrincipalPointX', c_float),
    ('PrincipalPointY', c_float),
    ('RadialDistortionSecondOrder', c_float),
    ('RadialDistortionFourthOrder', c_float),
    ('RadialDistortionSixthOrder', c_float),
]
assert sizeof(_CameraIntrinsics) == 28, sizeof(_CameraIntrinsics)

from comtypes import _check_version; _check_version('')


KINECT_SKELETON_COUNT = 6

if not _fake.SENSOR.sdk_installed:  # the real module does ctypes.WinDLL('Kinect20') here
    raise FileNotFoundError("Could not find module 'Kinect20' (or one of its dependencies). "
                            "Try using the full path with constructor syntax.")

_WAIT_OBJECT_0 = 0
_WAIT_OBJECT_1 = 1
_INFINITE = 0xffffffff
