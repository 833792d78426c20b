from pykinect_azure.k4abt import _k4abt
from pykinect_azure.k4abt.body import Body
from pykinect_azure.k4abt._k4abtTypes import k4abt_body_t


class Frame:
	def __init__(self, frame_handle, calibration):
		if frame_handle:
			self._handle = frame_handle
			self.calibration = calibration
			_k4abt.k4abt_frame_reference(self._handle)

	def __del__(self):
		self.reset()

	def is_valid(self):
		return self._handle

	def handle(self):
		return self._handle

	def reset(self):
		if self.is_valid():
			self.release()
			self._handle = None

	def release(self):
		if self.is_valid():
			_k4abt.k4abt_frame_release(self._handle)

	def get_num_bodies(self):
		return _k4abt.k4abt_frame_get_num_bodies(self._handle)

	def get_body_skeleton(self, index=0):
		skeleton = _k4abt.k4abt_skeleton_t()
		_k4abt.VERIFY(_k4abt.k4abt_frame_get_body_skeleton(self._handle, index, skeleton), "Body tracker get body skeleton failed!")
		return skeleton

	def get_body_id(self, index=0):
		return _k4abt.k4abt_frame_get_body_id(self._handle, index)

	def get_body(self, bodyIdx=0):
		body_handle = k4abt_body_t()
		body_handle.id = self.get_body_id(bodyIdx)
		body_handle.skeleton = self.get_body_skeleton(bodyIdx)
		return Body(body_handle)

	def get_device_timestamp_usec(self):
		return _k4abt.k4abt_frame_get_device_timestamp_usec(self._handle)
