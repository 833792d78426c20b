from pykinect_azure.k4a import _k4a
from pykinect_azure.k4a.capture import Capture
from pykinect_azure.k4a.calibration import Calibration
from pykinect_azure.k4a._k4atypes import K4A_WAIT_INFINITE


class Device:
	calibration = None
	capture = None
	imu_sample = None

	def __init__(self, index=0):
		self._handle = None
		self._handle = self.open(index)
		self.recording = False

	def __del__(self):
		self.close()

	def is_valid(self):
		return self._handle

	def is_capture_initialized(self):
		return Device.capture

	def handle(self):
		return self._handle

	def start(self, configuration, record=False, record_filepath="output.mkv"):
		self.configuration = configuration
		self.start_cameras(configuration)
		self.start_imu()
		if record:
			raise NotImplementedError("the fake does not record")

	def close(self):
		if self.is_valid():
			self.stop_imu()
			self.stop_cameras()
			_k4a.k4a_device_close(self._handle)
			self._handle = None
			self.record = None
			self.recording = False

	def update(self, timeout_in_ms=K4A_WAIT_INFINITE):
		capture_handle = self.get_capture(timeout_in_ms)
		if self.is_capture_initialized():
			Device.capture._handle = capture_handle
		else:
			Device.capture = Capture(capture_handle, Device.calibration)
		return Device.capture

	def get_capture(self, timeout_in_ms=_k4a.K4A_WAIT_INFINITE):
		if self.is_capture_initialized():
			Device.capture.release_handle()
		capture_handle = _k4a.k4a_capture_t()
		_k4a.VERIFY(_k4a.k4a_device_get_capture(self._handle, capture_handle, timeout_in_ms), "Get capture failed!")
		return capture_handle

	def start_cameras(self, device_config):
		Device.calibration = self.get_calibration(device_config.depth_mode, device_config.color_resolution)
		_k4a.VERIFY(_k4a.k4a_device_start_cameras(self._handle, device_config.handle()), "Start K4A cameras failed!")

	def stop_cameras(self):
		_k4a.k4a_device_stop_cameras(self._handle)

	def start_imu(self):
		_k4a.VERIFY(_k4a.k4a_device_start_imu(self._handle), "Start K4A IMU failed!")

	def stop_imu(self):
		_k4a.k4a_device_stop_imu(self._handle)

	def get_calibration(self, depth_mode, color_resolution):
		calibration_handle = _k4a.k4a_calibration_t()
		_k4a.VERIFY(_k4a.k4a_device_get_calibration(self._handle, depth_mode, color_resolution, calibration_handle), "Get calibration failed!")
		return Calibration(calibration_handle)

	@staticmethod
	def open(index=0):
		device_handle = _k4a.k4a_device_t()
		_k4a.VERIFY(_k4a.k4a_device_open(index, device_handle), "Open K4A Device failed!")
		return device_handle

	@staticmethod
	def device_get_installed_count():
		return int(_k4a.k4a_device_get_installed_count())
