import ctypes

from pykinect_azure.k4a._k4atypes import k4a_float3_t


# K4A_DECLARE_HANDLE(k4abt_tracker_t);
class _handle_k4abt_tracker_t(ctypes.Structure):
	_fields_ = [("_rsvd", ctypes.c_size_t)]
k4abt_tracker_t = ctypes.POINTER(_handle_k4abt_tracker_t)


# K4A_DECLARE_HANDLE(k4abt_frame_t);
class _handle_k4abt_frame_t(ctypes.Structure):
	_fields_ = [("_rsvd", ctypes.c_size_t)]
k4abt_frame_t = ctypes.POINTER(_handle_k4abt_frame_t)

k4abt_result_t = ctypes.c_int
K4ABT_RESULT_SUCCEEDED = 0
K4ABT_RESULT_FAILED = 1

K4ABT_JOINT_PELVIS = 0
K4ABT_JOINT_NOSE = 27
K4ABT_JOINT_COUNT = 32

K4ABT_SENSOR_ORIENTATION_DEFAULT = 0

K4ABT_TRACKER_PROCESSING_MODE_GPU = 0
K4ABT_TRACKER_PROCESSING_MODE_CPU = 1
K4ABT_TRACKER_PROCESSING_MODE_GPU_CUDA = 2


class _k4abt_tracker_configuration_t(ctypes.Structure):
	_fields_ = [
		("sensor_orientation", ctypes.c_int),
		("processing_mode", ctypes.c_int),
		("gpu_device_id", ctypes.c_int32),
		("model_path", ctypes.c_char_p),
	]
k4abt_tracker_configuration_t = _k4abt_tracker_configuration_t


class _wxyz(ctypes.Structure):
	_fields_ = [("w", ctypes.c_float), ("x", ctypes.c_float), ("y", ctypes.c_float), ("z", ctypes.c_float)]


class k4a_quaternion_t(ctypes.Union):
	_fields_ = [("wxyz", _wxyz), ("v", ctypes.c_float * 4)]

	def __init__(self, q=(0, 0, 0, 0)):
		super().__init__()
		self.wxyz = _wxyz(q[0], q[1], q[2], q[3])


K4ABT_JOINT_CONFIDENCE_NONE = 0
K4ABT_JOINT_CONFIDENCE_LOW = 1
K4ABT_JOINT_CONFIDENCE_MEDIUM = 2
K4ABT_JOINT_CONFIDENCE_HIGH = 3
K4ABT_JOINT_CONFIDENCE_LEVELS_COUNT = 4


class _k4abt_joint_t(ctypes.Structure):
	_fields_ = [
		("position", k4a_float3_t),
		("orientation", k4a_quaternion_t),
		("confidence_level", ctypes.c_int),
	]

	def __init__(self, position=(0, 0, 0), orientation=(0, 0, 0, 0), confidence_level=0):
		super().__init__()
		self.position = k4a_float3_t(position)
		self.orientation = k4a_quaternion_t(orientation)
		self.confidence_level = confidence_level
k4abt_joint_t = _k4abt_joint_t


class k4abt_skeleton_t(ctypes.Structure):
	_fields_ = [("joints", _k4abt_joint_t * K4ABT_JOINT_COUNT)]

	def __init__(self, joints=(_k4abt_joint_t() for i in range(K4ABT_JOINT_COUNT))):
		super().__init__()
		self.joints = (_k4abt_joint_t * K4ABT_JOINT_COUNT)(*joints)


class k4abt_body_t(ctypes.Structure):
	_fields_ = [("id", ctypes.c_uint32), ("skeleton", k4abt_skeleton_t)]

	def __init__(self, id=0, skeleton=k4abt_skeleton_t()):
		super().__init__()
		self.id = id
		self.skeleton = skeleton


K4ABT_BODY_INDEX_MAP_BACKGROUND = 255
K4ABT_INVALID_BODY_ID = 0xFFFFFFFF
K4ABT_DEFAULT_TRACKER_SMOOTHING_FACTOR = 0.0

K4ABT_DEFAULT_MODEL = 0
K4ABT_LITE_MODEL = 1

k4abt_tracker_default_configuration = k4abt_tracker_configuration_t()
k4abt_tracker_default_configuration.sensor_orientation = K4ABT_SENSOR_ORIENTATION_DEFAULT
k4abt_tracker_default_configuration.processing_mode = K4ABT_TRACKER_PROCESSING_MODE_GPU
k4abt_tracker_default_configuration.gpu_device_id = 0
