import sys

import k4a_fake_device as _dev

record_dll = None


def setup_library(module_k4arecord_path):
    global record_dll
    if not _dev.DEVICE.library:
        print("Failed to load library", f"{module_k4arecord_path}: cannot open shared object file")
        sys.exit(1)
    record_dll = module_k4arecord_path
