"""Test fake of pykinect_azure (github.com/ibaiGorordo/pyKinectAzure): the same package layout, names,
constants and ctypes types for what kinact uses, backed by tests/fakes/k4a_fake_device.py instead of
libk4a/libk4abt. Like the real package, failures inside VERIFY print a message and call sys.exit(1)."""
from .pykinect import *
from .k4a import Calibration, Capture, Configuration, default_configuration, Device, Image
from .k4abt import Body, Frame, Joint, Tracker

from .k4a._k4atypes import *
from .k4abt._k4abtTypes import *
