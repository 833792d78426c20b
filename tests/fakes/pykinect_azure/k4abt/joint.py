class Joint:
	def __init__(self, joint_handle, id):
		if joint_handle:
			self._handle = joint_handle
			self.position = joint_handle.position.xyz
			self.orientation = joint_handle.orientation.wxyz
			self.confidence_level = joint_handle.confidence_level
			self.id = id
