"""aubench: OpenFace 2.2 Action Unit extraction in Python, faithful and fast.

The package is split like OpenFace's own libraries:

- ``pipeline.detect``     -- MTCNN face detection (``LandmarkDetector::FaceDetectorMTCNN``)
- ``pipeline.landmarks``  -- CLNF landmark fitting, tracking, pose and gaze
  (``LandmarkDetector``, ``GazeAnalyser``)
- ``pipeline.au``         -- alignment, FHOG, geometry, AU predictors (``FaceAnalyser``)
- ``pipeline.models``     -- readers for OpenFace's model files and the model store
- ``pipeline.io``         -- inputs (video, images) and OpenFace-format outputs
- ``pipeline.registry``   -- hot kernels and their swappable variants
- ``pipeline.config``     -- TOML configuration as frozen dataclasses
"""

__version__ = "0.1.0"
