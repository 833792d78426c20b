from pykinect_azure.k4abt import _k4abt


class TrackerConfiguration:

    def __init__(self, configuration_handle=None):
        if configuration_handle:
            self._handle = configuration_handle
        else:
            self.create()

    def handle(self):
        return self._handle

    def create(self):
        self.sensor_orientation = _k4abt.K4ABT_SENSOR_ORIENTATION_DEFAULT
        self.tracker_processing_mode = _k4abt.K4ABT_TRACKER_PROCESSING_MODE_GPU
        self.gpu_device_id = 0
        self.on_value_change()

    def on_value_change(self):
        self._handle = _k4abt.k4abt_tracker_configuration_t(self.sensor_orientation,
                                                            self.tracker_processing_mode,
                                                            self.gpu_device_id)


default_tracker_configuration = TrackerConfiguration()
