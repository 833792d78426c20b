from pykinect_azure.k4a import _k4a
from pykinect_azure.k4a.image import Image


class Capture:

	def __init__(self, capture_handle, calibration):
		self._handle = capture_handle
		self.calibration = calibration

	def __del__(self):
		self.reset()

	def is_valid(self):
		return self._handle

	def handle(self):
		return self._handle

	def reset(self):
		if self.is_valid():
			self.release_handle()
			self._handle = None

	def release_handle(self):
		if self.is_valid():
			_k4a.k4a_capture_release(self._handle)

	def get_depth_image_object(self):
		return Image(_k4a.k4a_capture_get_depth_image(self._handle))

	def get_depth_image(self):
		return self.get_depth_image_object().to_numpy()
