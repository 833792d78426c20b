from pykinect_azure.k4a import _k4a


class Configuration:

	def __init__(self, configuration_handle=None):
		if configuration_handle:
			self._handle = configuration_handle
		else:
			self.create()

	def handle(self):
		return self._handle

	def __setattr__(self, name, value):
		"""Run on change function when configuration parameters are changed"""
		if hasattr(self, name):
			if name != "_handle":
				if int(self.__dict__[name]) != value:
					self.__dict__[name] = value
					self.on_value_change()
			else:
				self.__dict__[name] = value
		else:
			self.__dict__[name] = value

	def create(self):
		self.color_format = _k4a.K4A_IMAGE_FORMAT_COLOR_MJPG
		self.color_resolution = _k4a.K4A_COLOR_RESOLUTION_720P
		self.depth_mode = _k4a.K4A_DEPTH_MODE_WFOV_2X2BINNED
		self.camera_fps = _k4a.K4A_FRAMES_PER_SECOND_30
		self.synchronized_images_only = False
		self.depth_delay_off_color_usec = 0
		self.wired_sync_mode = _k4a.K4A_WIRED_SYNC_MODE_STANDALONE
		self.subordinate_delay_off_master_usec = 0
		self.disable_streaming_indicator = False
		self.on_value_change()

	def on_value_change(self):
		self._handle = _k4a.k4a_device_configuration_t(self.color_format,
														self.color_resolution,
														self.depth_mode,
														self.camera_fps,
														self.synchronized_images_only,
														self.depth_delay_off_color_usec,
														self.wired_sync_mode,
														self.subordinate_delay_off_master_usec,
														self.disable_streaming_indicator)


default_configuration = Configuration()
