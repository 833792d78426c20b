import ctypes


# K4A_DECLARE_HANDLE(k4a_device_t);
class _handle_k4a_device_t(ctypes.Structure):
	_fields_ = [("_rsvd", ctypes.c_size_t)]
k4a_device_t = ctypes.POINTER(_handle_k4a_device_t)


# K4A_DECLARE_HANDLE(k4a_capture_t);
class _handle_k4a_capture_t(ctypes.Structure):
	_fields_ = [("_rsvd", ctypes.c_size_t)]
k4a_capture_t = ctypes.POINTER(_handle_k4a_capture_t)


# K4A_DECLARE_HANDLE(k4a_image_t);
class _handle_k4a_image_t(ctypes.Structure):
	_fields_ = [("_rsvd", ctypes.c_size_t)]
k4a_image_t = ctypes.POINTER(_handle_k4a_image_t)

k4a_result_t = ctypes.c_int
K4A_RESULT_SUCCEEDED = 0
K4A_RESULT_FAILED = 1

k4a_wait_result_t = ctypes.c_int
K4A_WAIT_RESULT_SUCCEEDED = 0
K4A_WAIT_RESULT_FAILED = 1
K4A_WAIT_RESULT_TIMEOUT = 2

K4A_DEPTH_MODE_OFF = 0
K4A_DEPTH_MODE_NFOV_2X2BINNED = 1
K4A_DEPTH_MODE_NFOV_UNBINNED = 2
K4A_DEPTH_MODE_WFOV_2X2BINNED = 3
K4A_DEPTH_MODE_WFOV_UNBINNED = 4
K4A_DEPTH_MODE_PASSIVE_IR = 5

K4A_COLOR_RESOLUTION_OFF = 0
K4A_COLOR_RESOLUTION_720P = 1

K4A_IMAGE_FORMAT_COLOR_MJPG = 0
K4A_IMAGE_FORMAT_COLOR_BGRA32 = 3
K4A_IMAGE_FORMAT_DEPTH16 = 4

K4A_FRAMES_PER_SECOND_5 = 0
K4A_FRAMES_PER_SECOND_15 = 1
K4A_FRAMES_PER_SECOND_30 = 2

K4A_WIRED_SYNC_MODE_STANDALONE = 0

K4A_CALIBRATION_TYPE_UNKNOWN = -1
K4A_CALIBRATION_TYPE_DEPTH = 0
K4A_CALIBRATION_TYPE_COLOR = 1
K4A_CALIBRATION_TYPE_GYRO = 2
K4A_CALIBRATION_TYPE_ACCEL = 3
K4A_CALIBRATION_TYPE_NUM = 4


class _k4a_device_configuration_t(ctypes.Structure):
	_fields_ = [
		("color_format", ctypes.c_int),
		("color_resolution", ctypes.c_int),
		("depth_mode", ctypes.c_int),
		("camera_fps", ctypes.c_int),
		("synchronized_images_only", ctypes.c_bool),
		("depth_delay_off_color_usec", ctypes.c_int32),
		("wired_sync_mode", ctypes.c_int),
		("subordinate_delay_off_master_usec", ctypes.c_uint32),
		("disable_streaming_indicator", ctypes.c_bool),
	]
k4a_device_configuration_t = _k4a_device_configuration_t


class _k4a_calibration_extrinsics_t(ctypes.Structure):
	_fields_ = [("rotation", ctypes.c_float * 9), ("translation", ctypes.c_float * 3)]
k4a_calibration_extrinsics_t = _k4a_calibration_extrinsics_t


class _param(ctypes.Structure):
	_fields_ = [(name, ctypes.c_float) for name in
				("cx", "cy", "fx", "fy", "k1", "k2", "k3", "k4", "k5", "k6", "codx", "cody", "p2", "p1",
				 "metric_radius")]


class k4a_calibration_intrinsic_parameters_t(ctypes.Union):
	_fields_ = [("param", _param), ("v", ctypes.c_float * 15)]


class _k4a_calibration_intrinsics_t(ctypes.Structure):
	_fields_ = [("type", ctypes.c_int), ("parameter_count", ctypes.c_uint),
				("parameters", k4a_calibration_intrinsic_parameters_t)]
k4a_calibration_intrinsics_t = _k4a_calibration_intrinsics_t


class _k4a_calibration_camera_t(ctypes.Structure):
	_fields_ = [
		("extrinsics", k4a_calibration_extrinsics_t),
		("intrinsics", k4a_calibration_intrinsics_t),
		("resolution_width", ctypes.c_int),
		("resolution_height", ctypes.c_int),
		("metric_radius", ctypes.c_float),
	]
k4a_calibration_camera_t = _k4a_calibration_camera_t


class _k4a_calibration_t(ctypes.Structure):
	_fields_ = [
		("depth_camera_calibration", k4a_calibration_camera_t),
		("color_camera_calibration", k4a_calibration_camera_t),
		("extrinsics", (k4a_calibration_extrinsics_t * K4A_CALIBRATION_TYPE_NUM) * K4A_CALIBRATION_TYPE_NUM),
		("depth_mode", ctypes.c_int),
		("color_resolution", ctypes.c_int),
	]
k4a_calibration_t = _k4a_calibration_t


class _xyz(ctypes.Structure):
	_fields_ = [("x", ctypes.c_float), ("y", ctypes.c_float), ("z", ctypes.c_float)]


class k4a_float3_t(ctypes.Union):
	_fields_ = [("xyz", _xyz), ("v", ctypes.c_float * 3)]

	def __init__(self, v=(0, 0, 0)):
		super().__init__()
		self.xyz = _xyz(v[0], v[1], v[2])


class _xy(ctypes.Structure):
	_fields_ = [("x", ctypes.c_float), ("y", ctypes.c_float)]


class k4a_float2_t(ctypes.Union):
	_fields_ = [("xy", _xy), ("v", ctypes.c_float * 2)]

	def __init__(self, v=(0, 0)):
		super().__init__()
		self.xy = _xy(v[0], v[1])


K4A_DEVICE_DEFAULT = 0
K4A_WAIT_INFINITE = -1
