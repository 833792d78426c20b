import numpy as np

from pykinect_azure.k4a import _k4a


class Image:
	_handle = None
	buffer_pointer = None

	def __init__(self, image_handle=None):
		self._handle = image_handle
		self.buffer_pointer = self.get_buffer() if self.is_valid() else None

	def __del__(self):
		self.reset()

	def is_valid(self):
		return self._handle or self.buffer_pointer is not None

	def handle(self):
		return self._handle

	def reset(self):
		if self.is_valid():
			_k4a.k4a_image_release(self._handle)
			self._handle = None

	def get_buffer(self):
		if not self._handle:
			return None
		return _k4a.k4a_image_get_buffer(self._handle)

	def get_size(self):
		return int(_k4a.k4a_image_get_size(self._handle))

	def get_format(self):
		return int(_k4a.k4a_image_get_format(self._handle))

	def get_width_pixels(self):
		return int(_k4a.k4a_image_get_width_pixels(self._handle))

	def get_height_pixels(self):
		return int(_k4a.k4a_image_get_height_pixels(self._handle))

	def to_numpy(self):
		if not self.is_valid():
			return False, None
		image_width = self.get_width_pixels()
		image_height = self.get_height_pixels()
		image_format = self.get_format()
		buffer_array = np.asarray(self.buffer_pointer).view(np.uint8).reshape(-1)  # the real one wraps the C buffer
		if image_format == _k4a.K4A_IMAGE_FORMAT_DEPTH16:
			return True, np.frombuffer(buffer_array, dtype="<u2").copy().reshape(image_height, image_width)
		raise NotImplementedError("the fake only has depth images")
