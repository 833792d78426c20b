"""Fake of pykinect_azure/k4abt/_k4abt.py: the k4abt_* wrappers with the C API's return codes.

The fake tracker turns every enqueued capture into a body frame from the device script; with
DEVICE.tracker_latency = n a frame can be popped only after n further captures were enqueued (as with a
tracker still busy on the GPU). The input queue holds 3 captures; a full queue makes enqueue time out.
"""
import sys
import time
import traceback

import k4a_fake_device as _dev
from pykinect_azure.k4abt._k4abtTypes import *
from pykinect_azure.k4a._k4atypes import (k4a_capture_t, K4A_WAIT_RESULT_SUCCEEDED, K4A_WAIT_RESULT_FAILED,
										  K4A_WAIT_RESULT_TIMEOUT)

k4abt_dll = None
MAX_QUEUE = 3


def setup_library(module_k4abt_path):
	global k4abt_dll
	if not _dev.DEVICE.bt_library:
		print("Failed to load body tracker library", f"{module_k4abt_path}: cannot open shared object file")
		sys.exit(1)
	k4abt_dll = module_k4abt_path


class _Tracker:
	def __init__(self):
		self.pending = []  # body frames not yet poppable, in order
		self.ready = []
		self.shut = False

	def release_all(self):
		for frame in self.pending + self.ready:
			frame.release()
		self.pending, self.ready = [], []


class _BodyFrame:
	def __init__(self, capture):
		capture.reference()
		self.capture = capture
		self.bodies = _dev.DEVICE.bodies(capture.k)
		self.timestamp_usec = capture.timestamp_usec
		self.refs = 1

	def release(self):
		self.refs -= 1
		if self.refs == 0:
			self.capture.release()


def k4abt_tracker_create(sensor_calibration, config, tracker_handle):
	if _dev.DEVICE.tracker_fails:
		return K4ABT_RESULT_FAILED
	_dev.bind(tracker_handle, _Tracker())
	return K4ABT_RESULT_SUCCEEDED


def k4abt_tracker_destroy(tracker_handle):
	_dev.deref(tracker_handle).release_all()


def k4abt_tracker_shutdown(tracker_handle):
	_dev.deref(tracker_handle).shut = True


def k4abt_tracker_enqueue_capture(tracker_handle, sensor_capture_handle, timeout_in_ms):
	tracker = _dev.deref(tracker_handle)
	if tracker.shut:
		return K4A_WAIT_RESULT_FAILED
	if len(tracker.pending) + len(tracker.ready) >= MAX_QUEUE:
		return K4A_WAIT_RESULT_TIMEOUT
	tracker.pending.append(_BodyFrame(_dev.deref(sensor_capture_handle)))
	while len(tracker.pending) > _dev.DEVICE.tracker_latency:
		tracker.ready.append(tracker.pending.pop(0))
	return K4A_WAIT_RESULT_SUCCEEDED


def k4abt_tracker_pop_result(tracker_handle, body_frame_handle, timeout_in_ms):
	tracker = _dev.deref(tracker_handle)
	if not tracker.ready:
		if tracker.shut:
			return K4A_WAIT_RESULT_FAILED
		if timeout_in_ms != 0:
			time.sleep(0.002)
		return K4A_WAIT_RESULT_TIMEOUT
	_dev.bind(body_frame_handle, tracker.ready.pop(0))
	return K4A_WAIT_RESULT_SUCCEEDED


def k4abt_frame_release(body_frame_handle):
	_dev.deref(body_frame_handle).release()


def k4abt_frame_reference(body_frame_handle):
	_dev.deref(body_frame_handle).refs += 1


def k4abt_frame_get_num_bodies(body_frame_handle):
	return len(_dev.deref(body_frame_handle).bodies)


def k4abt_frame_get_body_skeleton(body_frame_handle, index, skeleton):
	bodies = _dev.deref(body_frame_handle).bodies
	if index >= len(bodies):
		return K4ABT_RESULT_FAILED
	_, joints, confidence = bodies[index]
	for j in range(K4ABT_JOINT_COUNT):
		skeleton.joints[j].position = k4a_float3_t(tuple(joints[j]))
		skeleton.joints[j].confidence_level = int(confidence[j])
	return K4ABT_RESULT_SUCCEEDED


def k4abt_frame_get_body_id(body_frame_handle, index):
	bodies = _dev.deref(body_frame_handle).bodies
	return bodies[index][0] if index < len(bodies) else K4ABT_INVALID_BODY_ID


def k4abt_frame_get_device_timestamp_usec(body_frame_handle):
	return _dev.deref(body_frame_handle).timestamp_usec


def k4abt_frame_get_capture(body_frame_handle):
	capture = _dev.deref(body_frame_handle).capture
	capture.reference()  # the caller releases it with k4a_capture_release
	return _dev.new_handle(k4a_capture_t, capture)


def VERIFY(result, error):
	if result != K4ABT_RESULT_SUCCEEDED:
		print(error)
		traceback.print_stack()
		sys.exit(1)
