"""Fake of pykinect_azure/k4a/_k4a.py: the k4a_* wrappers with the C API's return codes, over the fake device."""
import ctypes
import sys

import k4a_fake_device as _dev
from pykinect_azure.k4a._k4atypes import *

k4a_dll = None


def setup_library(module_k4a_path):
	global k4a_dll
	if not _dev.DEVICE.library:
		print("Failed to load library", f"{module_k4a_path}: cannot open shared object file: No such file or directory")
		sys.exit(1)
	k4a_dll = module_k4a_path


def k4a_device_get_installed_count():
	return _dev.DEVICE.device_count


def k4a_device_open(device_id, device_handle):
	if not _dev.DEVICE.open(device_id):
		return K4A_RESULT_FAILED
	_dev.bind(device_handle, _dev.DEVICE)
	return K4A_RESULT_SUCCEEDED


def k4a_device_close(device_handle):
	_dev.deref(device_handle).close()


def k4a_device_get_capture(device_handle, capture_handle, timeout):
	status, capture = _dev.deref(device_handle).get_capture(timeout)
	if status == "ok":
		_dev.bind(capture_handle, capture)
		return K4A_WAIT_RESULT_SUCCEEDED
	return K4A_WAIT_RESULT_TIMEOUT if status == "timeout" else K4A_WAIT_RESULT_FAILED


def k4a_device_start_cameras(device_handle, device_config):
	ok = _dev.deref(device_handle).start(device_config.color_resolution, device_config.depth_mode,
										  device_config.camera_fps, device_config.synchronized_images_only)
	return K4A_RESULT_SUCCEEDED if ok else K4A_RESULT_FAILED


def k4a_device_stop_cameras(device_handle):
	_dev.deref(device_handle).stop()


def k4a_device_start_imu(device_handle):
	return K4A_RESULT_SUCCEEDED if _dev.deref(device_handle).streaming else K4A_RESULT_FAILED


def k4a_device_stop_imu(device_handle):
	pass


def k4a_device_get_calibration(device_handle, depth_mode, color_resolution, calibration_handle):
	device = _dev.deref(device_handle)
	if not device.opened:
		return K4A_RESULT_FAILED
	cam = calibration_handle.depth_camera_calibration
	h, w = _dev.DEPTH_SIZES.get(int(depth_mode), (0, 0))
	cam.resolution_width, cam.resolution_height = w, h
	params = device.intrinsics_params(int(depth_mode))
	for i, value in enumerate(params):
		cam.intrinsics.parameters.v[i] = value
	cam.intrinsics.parameter_count = 14
	calibration_handle.depth_mode, calibration_handle.color_resolution = int(depth_mode), int(color_resolution)
	return K4A_RESULT_SUCCEEDED


def k4a_capture_release(capture_handle):
	_dev.deref(capture_handle).release()


def k4a_capture_reference(capture_handle):
	_dev.deref(capture_handle).reference()


def k4a_capture_get_depth_image(capture_handle):
	capture = _dev.deref(capture_handle)
	if capture.depth is None:
		return k4a_image_t()
	capture.reference()  # the image keeps its capture's buffer alive
	return _dev.new_handle(k4a_image_t, ("image", capture))


def k4a_image_release(image_handle):
	_dev.deref(image_handle)[1].release()


def k4a_image_get_buffer(image_handle):
	return _dev.deref(image_handle)[1].depth


def k4a_image_get_size(image_handle):
	return _dev.deref(image_handle)[1].depth.nbytes


def k4a_image_get_format(image_handle):
	return K4A_IMAGE_FORMAT_DEPTH16


def k4a_image_get_width_pixels(image_handle):
	return _dev.deref(image_handle)[1].depth.shape[1]


def k4a_image_get_height_pixels(image_handle):
	return _dev.deref(image_handle)[1].depth.shape[0]


def k4a_image_get_stride_bytes(image_handle):
	return _dev.deref(image_handle)[1].depth.strides[0]


def k4a_image_get_device_timestamp_usec(image_handle):
	return _dev.deref(image_handle)[1].timestamp_usec


def VERIFY(result, error):
	if result != K4A_RESULT_SUCCEEDED:
		print(error)
		sys.exit(1)
