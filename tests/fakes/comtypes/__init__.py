"""Test fake of the parts of comtypes that PyKinect2 touches (the real one only exists on Windows).

Mirrors comtypes >= 1.1.9: ``_check_version(actual, tlib_cached_mtime=None)`` compares the version a module
was generated with against ``comtypes.tools.codegenerator.version`` (comtypes' own ``__version__``) and raises
``ImportError("Wrong version")``; PyKinect2's generated module passes ''.
"""
import ctypes

__version__ = "1.4.1"


class COMError(Exception):
    """Like _ctypes.COMError: (hresult, text, details)."""

    def __init__(self, hresult, text=None, details=None):
        super().__init__(hresult, text, details)
        self.hresult, self.text, self.details = hresult, text, details


class GUID(ctypes.Structure):
    _fields_ = [("Data1", ctypes.c_uint32), ("Data2", ctypes.c_uint16), ("Data3", ctypes.c_uint16),
                ("Data4", ctypes.c_ubyte * 8)]


class IUnknown:
    _iid_ = None


def _check_version(actual, tlib_cached_mtime=None):
    required = __version__  # comtypes.tools.codegenerator.version
    if actual != required:
        raise ImportError("Wrong version")
