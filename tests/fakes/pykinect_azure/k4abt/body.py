import numpy as np

from pykinect_azure.k4abt._k4abtTypes import K4ABT_JOINT_COUNT
from pykinect_azure.k4abt.joint import Joint


class Body:
	def __init__(self, skeleton_handle):
		if skeleton_handle:
			self._handle = skeleton_handle
			self.initialize()

	def handle(self):
		return self._handle

	def initialize(self):
		joints = np.ndarray((K4ABT_JOINT_COUNT,), dtype=np.object_)
		for i in range(K4ABT_JOINT_COUNT):
			joints[i] = Joint(self._handle.skeleton.joints[i], i)
		self.joints = joints
