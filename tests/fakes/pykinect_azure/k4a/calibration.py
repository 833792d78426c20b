from pykinect_azure.k4a import _k4a


class Calibration:

	def __init__(self, calibration_handle):
		self._handle = calibration_handle
		self.color_params = self._handle.color_camera_calibration.intrinsics.parameters.param
		self.depth_params = self._handle.depth_camera_calibration.intrinsics.parameters.param

	def __del__(self):
		self.reset()

	def get_matrix(self, camera):
		if camera == _k4a.K4A_CALIBRATION_TYPE_COLOR:
			return [[self.color_params.fx, 0, self.color_params.cx],
					[0, self.color_params.fy, self.color_params.cy],
					[0, 0, 1]]
		elif camera == _k4a.K4A_CALIBRATION_TYPE_DEPTH:
			return [[self.depth_params.fx, 0, self.depth_params.cx],
					[0, self.depth_params.fy, self.depth_params.cy],
					[0, 0, 1]]

	def is_valid(self):
		return self._handle

	def handle(self):
		return self._handle

	def reset(self):
		if self.is_valid():
			self._handle = None
