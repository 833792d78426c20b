"""Stands for the compiled `k4a_module` extension: the same function names and return shapes."""
import time

import k4a_fake_device as _dev

if not _dev.DEVICE.library:
    raise ImportError(
        "Cannot import k4a_module. "
        "Make sure `libk4a.so` can be found. "
        "Add the directory to your `LD_LIBRARY_PATH` if required. "
        "Also make sure pyk4a is properly built."
    )

SUCCESS, FAILED, TIMEOUT = 0, 1, 2


class _K4AModule:
    def device_get_installed_count(self):
        return _dev.DEVICE.device_count

    def device_open(self, device_id, thread_safe):
        if _dev.DEVICE.open(device_id):
            return SUCCESS, ("device", device_id)
        return FAILED, None

    def device_close(self, device_handle, thread_safe):
        if device_handle is not None:
            _dev.DEVICE.close()
        return SUCCESS

    def device_start_cameras(self, device_handle, thread_safe, color_format, color_resolution, depth_mode,
                             camera_fps, synchronized_images_only, depth_delay_off_color_usec, wired_sync_mode,
                             subordinate_delay_off_master_usec, disable_streaming_indicator):
        ok = _dev.DEVICE.start(int(color_resolution), int(depth_mode), int(camera_fps), bool(synchronized_images_only))
        return SUCCESS if ok else FAILED

    def device_start_imu(self, device_handle, thread_safe):
        return SUCCESS if _dev.DEVICE.streaming else FAILED

    def device_stop_cameras(self, device_handle, thread_safe):
        _dev.DEVICE.stop()
        return SUCCESS

    def device_stop_imu(self, device_handle, thread_safe):
        return SUCCESS

    def device_get_capture(self, device_handle, thread_safe, timeout):
        status, capture = _dev.DEVICE.get_capture(timeout)
        if status == "ok":
            capture.release()  # pyk4a hands the capsule to Python's GC; no reference counting to mirror
            return SUCCESS, capture
        return (TIMEOUT if status == "timeout" else FAILED), None

    def capture_get_depth_image(self, capture_handle, thread_safe):
        return capture_handle.depth.copy(), capture_handle.timestamp_usec, time.perf_counter_ns()

    def capture_get_color_image(self, capture_handle, thread_safe):
        return None, 0, 0

    def device_get_calibration(self, device_handle, thread_safe, depth_mode, color_resolution):
        if not _dev.DEVICE.opened:
            return FAILED, None
        return SUCCESS, ("calibration", int(depth_mode))

    def calibration_get_intrinsics(self, calibration_handle, thread_safe, camera):
        return _dev.DEVICE.intrinsics_params(calibration_handle[1])

    def device_get_raw_calibration(self, device_handle, thread_safe):
        return "{}"

    def device_get_serialnum(self, device_handle, thread_safe):
        return _dev.DEVICE.serial


k4a_module = _K4AModule()
