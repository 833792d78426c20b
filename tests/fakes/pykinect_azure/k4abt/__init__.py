from .body import Body
from .frame import Frame
from .joint import Joint
from .tracker import Tracker
from .trackerconfiguration import TrackerConfiguration, default_tracker_configuration
