import platform


def get_k4a_module_path():
    if platform.system().lower() == 'linux':
        return r'/usr/lib/x86_64-linux-gnu/libk4a.so'
    return 'C:\\Program Files\\Azure Kinect SDK v1.4.1\\sdk\\windows-desktop\\amd64\\release\\bin\\k4a.dll'


def get_k4abt_module_path():
    if platform.system().lower() == 'linux':
        return 'libk4abt.so'
    return 'C:\\Program Files\\Azure Kinect Body Tracking SDK\\sdk\\windows-desktop\\amd64\\release\\bin\\k4abt.dll'


def get_k4arecord_module_path(modulePath):
    return modulePath.replace('k4a', 'k4arecord')


def get_k4abt_lite_model_path():
    return None
